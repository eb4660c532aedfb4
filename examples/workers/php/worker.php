<?php
// A PHP worker for `spindle app` (or RoadRunner's centrifuge plugin) in plain
// PHP: no Composer, no extensions beyond php-cli. It speaks goridge frames and
// the few protobuf fields it needs by hand, so it shows the whole wire
// contract on one page. Real applications use roadrunner-php/centrifugo,
// which runs unchanged behind `spindle app`.
//
//   connect     user = data.token (the client's connect data), "" if absent
//   refresh     extends the connection by an hour
//   subscribe   allowed, except channels starting with "private:" (error 103)
//   publish     allowed, the data gets a "worker" field added
//   rpc         echo, whoami, shout (publishes {text, from} into data.channel
//               through rpc.listen: centrifuge.Publish, protobuf codec)
//   subrefresh  extends the subscription by an hour
//   map_publish a client write to a map channel: allowed, the data gets a
//               "worker" field added (spindle's name for Centrifugo's MapPublish)
//   map_remove  a client removing a key: allowed for keys named "<user>:…",
//               else error 1403 (MapRemove)
//   shared_poll_refresh
//               the server polling a shared-poll channel (SharedPollRefresh):
//               every requested key gets data {"key": key, "score": <the
//               number the key ends with, 0 if none>} and version 1
//
// Never print to STDOUT: it carries frames. Log to STDERR.

declare(strict_types=1);

const F_CONTROL = 0x01;
const F_ERROR = 0x40;
const F_PROTO = 0x80;

// ---------------------------------------------------------------- goridge

function frame_encode(int $flags, array $options, string $payload): string
{
    $hl = 3 + count($options);
    $head = chr(0x10 | $hl) . chr($flags) . pack('V', strlen($payload));
    $head .= pack('V', crc32($head)) . "\0\0";
    foreach ($options as $o) {
        $head .= pack('V', $o);
    }
    return $head . $payload;
}

function read_exact($stream, int $n): string
{
    $buf = '';
    while (strlen($buf) < $n) {
        $chunk = fread($stream, $n - strlen($buf));
        if ($chunk === false || $chunk === '') {
            if (feof($stream)) {
                throw new RuntimeException('relay closed');
            }
            continue;
        }
        $buf .= $chunk;
    }
    return $buf;
}

/** @return array{flags:int, options:int[], payload:string} */
function frame_read($stream): array
{
    $h = read_exact($stream, 12);
    if (crc32(substr($h, 0, 6)) !== unpack('V', substr($h, 6, 4))[1]) {
        throw new RuntimeException('not a goridge frame (CRC mismatch)');
    }
    $hl = ord($h[0]) & 0x0f;
    $size = unpack('V', substr($h, 2, 4))[1];
    $options = $hl > 3 ? array_values(unpack('V*', read_exact($stream, ($hl - 3) * 4))) : [];
    return ['flags' => ord($h[1]), 'options' => $options, 'payload' => $size > 0 ? read_exact($stream, $size) : ''];
}

function write_all($stream, string $data): void
{
    while ($data !== '') {
        $n = fwrite($stream, $data);
        if ($n === false || $n === 0) {
            throw new RuntimeException('relay write failed');
        }
        $data = substr($data, $n);
    }
    fflush($stream);
}

// --------------------------------------------------------------- protobuf

function pb_varint(int $v): string
{
    $out = '';
    while ($v > 0x7f || $v < 0) {
        $out .= chr(($v & 0x7f) | 0x80);
        $v = ($v >> 7) & (PHP_INT_MAX >> 6);
    }
    return $out . chr($v);
}

function pb_read_varint(string $b, int &$pos): int
{
    $v = 0;
    $shift = 0;
    do {
        $byte = ord($b[$pos++]);
        $v |= ($byte & 0x7f) << $shift;
        $shift += 7;
    } while ($byte >= 0x80);
    return $v;
}

/** Decodes a message into field number => value (last wins; ints and strings). */
function pb_decode(string $b): array
{
    $out = [];
    $pos = 0;
    $len = strlen($b);
    while ($pos < $len) {
        $key = pb_read_varint($b, $pos);
        $num = $key >> 3;
        switch ($key & 7) {
            case 0:
                $out[$num] = pb_read_varint($b, $pos);
                break;
            case 1:
                $pos += 8;
                break;
            case 2:
                $n = pb_read_varint($b, $pos);
                $out[$num] = substr($b, $pos, $n);
                $pos += $n;
                break;
            case 5:
                $pos += 4;
                break;
            default:
                throw new RuntimeException("unsupported wire type in field $num");
        }
    }
    return $out;
}

/** Every length-delimited value of field $num, in order (repeated fields). */
function pb_repeated(string $b, int $num): array
{
    $out = [];
    $pos = 0;
    $len = strlen($b);
    while ($pos < $len) {
        $key = pb_read_varint($b, $pos);
        switch ($key & 7) {
            case 0:
                pb_read_varint($b, $pos);
                break;
            case 1:
                $pos += 8;
                break;
            case 2:
                $n = pb_read_varint($b, $pos);
                if ($key >> 3 === $num) {
                    $out[] = substr($b, $pos, $n);
                }
                $pos += $n;
                break;
            case 5:
                $pos += 4;
                break;
            default:
                throw new RuntimeException('unsupported wire type in field ' . ($key >> 3));
        }
    }
    return $out;
}

function pb_bytes(int $num, string $v): string
{
    return $v === '' ? '' : pb_varint($num << 3 | 2) . pb_varint(strlen($v)) . $v;
}

function pb_int(int $num, int $v): string
{
    return $v === 0 ? '' : pb_varint($num << 3) . pb_varint($v);
}

// Every proxy *Response: result = 1, error = 2 (Error{code = 1, message = 2}).
function reply_result(string $result): string
{
    return pb_varint(1 << 3 | 2) . pb_varint(strlen($result)) . $result;
}

function reply_error(int $code, string $message): string
{
    return pb_bytes(2, pb_int(1, $code) . pb_bytes(2, $message));
}

function json_data(string $bytes): array
{
    $v = $bytes === '' ? [] : json_decode($bytes, true);
    return is_array($v) ? $v : [];
}

// ------------------------------------------------------- worker RPC client

function rpc_publish(string $channel, array $data): int
{
    static $sock = null, $seq = 0;
    if ($sock === null) {
        $addr = getenv('RR_RPC') ?: 'tcp://127.0.0.1:6001';
        $sock = stream_socket_client($addr, $errno, $errstr, 5);
        if ($sock === false) {
            throw new RuntimeException("rpc.listen $addr: $errstr");
        }
    }
    $method = 'centrifuge.Publish';
    // PublishRequest{channel = 1, data = 2}
    $req = pb_bytes(1, $channel) . pb_bytes(2, json_encode($data));
    $seq++;
    write_all($sock, frame_encode(F_PROTO, [$seq, strlen($method)], $method . $req));
    $f = frame_read($sock);
    $body = substr($f['payload'], $f['options'][1] ?? 0);
    if ($f['flags'] & F_ERROR) {
        throw new RuntimeException("rpc $method: $body");
    }
    // PublishResponse{error = 1, result = 2 (PublishResult{offset = 1})}
    $resp = pb_decode($body);
    if (isset($resp[1])) {
        $e = pb_decode($resp[1]);
        throw new RuntimeException('publish failed: ' . ($e[1] ?? 0) . ' ' . ($e[2] ?? ''));
    }
    return (int)(pb_decode($resp[2] ?? '')[1] ?? 0);
}

// ------------------------------------------------------------ the handlers

/** Returns the protobuf *Response body for one request ($raw: its bytes, for repeated fields). */
function handle(string $type, array $req, string $raw): string
{
    $inAnHour = time() + 3600;
    switch ($type) {
        case 'connect': // ConnectRequest data = 10 → ConnectResult{user = 1}
            return reply_result(pb_bytes(1, (string)(json_data($req[10] ?? '')['token'] ?? '')));
        case 'refresh': // RefreshResult{expire_at = 2}
        case 'subrefresh': // SubRefreshResult{expire_at = 2}
        case 'sub_refresh':
            return reply_result(pb_int(2, $inAnHour));
        case 'subscribe': // SubscribeRequest channel = 11 → SubscribeResult{info = 2}
            if (str_starts_with($req[11] ?? '', 'private:')) {
                return reply_error(103, 'permission denied');
            }
            return reply_result(pb_bytes(2, json_encode(['by' => 'php-worker'])));
        case 'publish': // PublishRequest data = 12 → PublishResult{data = 1}
            return reply_result(pb_bytes(1, json_encode(json_data($req[12] ?? '') + ['worker' => 'php'])));
        case 'rpc': // RPCRequest user = 10, method = 11, data = 12 → RPCResult{data = 1}
            $user = $req[10] ?? '';
            switch ($req[11] ?? '') {
                case 'echo':
                    return reply_result(pb_bytes(1, $req[12] ?? ''));
                case 'whoami':
                    return reply_result(pb_bytes(1, json_encode(['user' => $user, 'client' => $req[1] ?? ''])));
                case 'shout':
                    $d = json_data($req[12] ?? '');
                    $offset = rpc_publish((string)($d['channel'] ?? ''), ['text' => $d['text'] ?? '', 'from' => $user]);
                    return reply_result(pb_bytes(1, json_encode(['published' => true, 'offset' => $offset])));
            }
            return reply_error(104, 'method not found');
        case 'map_publish': // MapPublishRequest data = 13 → MapPublishResult{data = 2}
            return reply_result(pb_bytes(2, json_encode(json_data($req[13] ?? '') + ['worker' => 'php'])));
        case 'map_remove': // MapRemoveRequest user = 10, key = 12 → MapRemoveResult{} or an error
            $user = $req[10] ?? '';
            if ($user !== '' && str_starts_with($req[12] ?? '', "$user:")) {
                return reply_result('');
            }
            return reply_error(1403, 'only your own keys can be removed');
        case 'shared_poll_refresh': // SharedPollRefreshRequest items = 2 [{key = 1, version = 2}]
            // → SharedPollRefreshResult{items = 1 [{key = 1, data = 2, version = 3}]}
            $items = '';
            foreach (pb_repeated($raw, 2) as $item) {
                $key = (string)(pb_decode($item)[1] ?? '');
                $score = preg_match('/(\d+)$/', $key, $m) ? (int)$m[1] : 0;
                $data = json_encode(['key' => $key, 'score' => $score], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
                $items .= pb_bytes(1, pb_bytes(1, $key) . pb_bytes(2, $data) . pb_int(3, 1));
            }
            return reply_result($items);
    }
    throw new RuntimeException("unknown request type $type");
}

// --------------------------------------------------------------- the loop

$relay = getenv('RR_RELAY') ?: 'pipes';
if ($relay === 'pipes') {
    [$in, $out] = [STDIN, STDOUT];
} else {
    $in = $out = stream_socket_client($relay, $errno, $errstr, 5);
    if ($in === false) {
        fwrite(STDERR, "cannot connect to relay $relay: $errstr\n");
        exit(2);
    }
}

while (true) {
    try {
        $f = frame_read($in);
    } catch (RuntimeException $e) {
        exit(0); // the server closed the relay
    }
    if ($f['flags'] & F_CONTROL) {
        $msg = json_decode($f['payload'], true) ?: [];
        if (!empty($msg['stop'])) {
            exit(0);
        }
        if (!empty($msg['pid'])) {
            write_all($out, frame_encode(F_CONTROL, [], json_encode(['pid' => getmypid()])));
        }
        continue;
    }
    $ctxLen = $f['options'][0] ?? 0;
    $context = json_decode(substr($f['payload'], 0, $ctxLen), true) ?: [];
    $type = $context['type'][0] ?? 'unknown';
    try {
        $raw = substr($f['payload'], $ctxLen);
        $body = handle($type, pb_decode($raw), $raw);
        write_all($out, frame_encode(F_PROTO, [0], $body));
    } catch (Throwable $e) {
        fwrite(STDERR, "worker: {$e->getMessage()}\n");
        // An ERROR frame: the server logs it and answers a temporary error.
        write_all($out, frame_encode(F_ERROR, [], $e->getMessage()));
    }
}
