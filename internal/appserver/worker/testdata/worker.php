<?php
// Test worker for the worker package: goridge v1 frames by hand (no
// Composer), pid handshake, echo with the body reversed. Works over pipes
// and over tcp:// or unix:// relays (RR_RELAY). Body "cmd:error" answers
// with an ERROR frame, "cmd:mode" answers RR_MODE.

function read_exact($in, int $n): string {
    $buf = '';
    while (strlen($buf) < $n) {
        $chunk = fread($in, $n - strlen($buf));
        if ($chunk === false || $chunk === '') {
            if (feof($in)) {
                exit(0);
            }
            continue;
        }
        $buf .= $chunk;
    }
    return $buf;
}

function read_frame($in): array {
    $h = read_exact($in, 12);
    $hl = ord($h[0]) & 0x0f;
    $flags = ord($h[1]);
    $size = unpack('V', substr($h, 2, 4))[1];
    $options = $hl > 3 ? array_values(unpack('V*', read_exact($in, ($hl - 3) * 4))) : [];
    $payload = $size > 0 ? read_exact($in, $size) : '';
    return [$flags, $options, $payload];
}

function write_frame($out, int $flags, array $options, string $payload): void {
    $hl = 3 + count($options);
    $h = chr((1 << 4) | $hl) . chr($flags) . pack('V', strlen($payload));
    $h .= pack('V', crc32($h)) . chr(0) . chr(0);
    foreach ($options as $o) {
        $h .= pack('V', $o);
    }
    fwrite($out, $h . $payload);
    fflush($out);
}

$relay = getenv('RR_RELAY') ?: 'pipes';
if ($relay === 'pipes') {
    $in = STDIN;
    $out = STDOUT;
} else {
    $sock = stream_socket_client($relay, $errno, $errstr, 5);
    if ($sock === false) {
        fwrite(STDERR, "cannot connect to $relay: $errstr\n");
        exit(2);
    }
    $in = $out = $sock;
}

while (true) {
    [$flags, $options, $payload] = read_frame($in);
    if ($flags & 0x01) {
        $msg = json_decode($payload, true);
        if (!empty($msg['stop'])) {
            exit(0);
        }
        if (!empty($msg['pid'])) {
            write_frame($out, 0x01, [], json_encode(['pid' => getmypid()]));
        }
        continue;
    }
    $ctxLen = $options[0] ?? 0;
    $context = substr($payload, 0, $ctxLen);
    $body = substr($payload, $ctxLen);
    if ($body === 'cmd:error') {
        write_frame($out, 0x40, [], 'php says no');
        continue;
    }
    if ($body === 'cmd:mode') {
        $body = strrev((string) getenv('RR_MODE'));
    }
    fwrite(STDERR, "php handled " . strlen($body) . " bytes\n");
    write_frame($out, 0, [strlen($context)], $context . strrev($body));
}
