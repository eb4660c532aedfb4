package redis

import (
	"crypto/sha1"
	"encoding/hex"

	"github.com/redis/rueidis"
)

// sha1Hex is the script id EVALSHA takes.
func sha1Hex(src string) string {
	sum := sha1.Sum([]byte(src))
	return hex.EncodeToString(sum[:])
}

// publishScript does everything a publish needs in one atomic step, so the
// offset order in history and the delivery order on PUB/SUB are the same:
// idempotency check, epoch creation, offset increment, XADD with trimming,
// TTLs, PUBLISH of the framed publication and the idempotency result.
//
// KEYS: 1 meta hash, 2 stream, 3 idempotency result key.
// ARGV: 1 PUB/SUB channel, 2 encoded publication, 3 history size ("0": no
// history), 4 history TTL ms, 5 meta TTL ms, 6 epoch to use if the stream
// is missing, 7 result TTL ms ("0": no idempotency key), 8 "publish" or
// "spublish".
// Returns {suppressed (0/1), offset (string), epoch}.
var publishScript = rueidis.NewLuaScript(`
if ARGV[7] ~= '0' then
  local prev = redis.call('get', KEYS[3])
  if prev then
    local sep = string.find(prev, ':', 1, true)
    if sep then
      return {1, string.sub(prev, 1, sep - 1), string.sub(prev, sep + 1)}
    end
  end
end
local offset, epoch = '0', ''
if ARGV[3] ~= '0' then
  epoch = redis.call('hget', KEYS[1], 'e')
  if not epoch then
    epoch = ARGV[6]
    redis.call('del', KEYS[2])
    redis.call('hset', KEYS[1], 'e', epoch)
  end
  offset = string.format('%d', redis.call('hincrby', KEYS[1], 's', 1))
  redis.call('pexpire', KEYS[1], ARGV[5])
  redis.call('xadd', KEYS[2], 'MAXLEN', ARGV[3], offset, 'd', ARGV[2])
  redis.call('pexpire', KEYS[2], ARGV[4])
end
redis.call(ARGV[8], ARGV[1], 'p' .. offset .. ':' .. epoch .. ':' .. ARGV[2])
if ARGV[7] ~= '0' then
  redis.call('set', KEYS[3], offset .. ':' .. epoch, 'PX', ARGV[7])
end
return {0, offset, epoch}
`)

// historyMetaSource reads the stream position, creating the stream meta
// when missing (so a subscriber's epoch survives until the first
// publish). It is short on purpose: History runs it in a MULTI with a
// plain XRANGE, because returning many entries through Lua costs several
// times more than the range itself.
//
// KEYS: 1 meta hash, 2 stream.
// ARGV: 1 epoch to use if missing, 2 meta TTL ms for a created meta.
// Returns {top offset (string), epoch}.
const historyMetaSource = `
local epoch = redis.call('hget', KEYS[1], 'e')
if not epoch then
  redis.call('del', KEYS[2])
  redis.call('hset', KEYS[1], 'e', ARGV[1], 's', '0')
  redis.call('pexpire', KEYS[1], ARGV[2])
  return {'0', ARGV[1]}
end
return {redis.call('hget', KEYS[1], 's') or '0', epoch}
`

var (
	historyMetaScript = rueidis.NewLuaScript(historyMetaSource)
	historyMetaSHA    = sha1Hex(historyMetaSource)
)

// presenceScripts share this prelude: Redis time in microseconds, so all
// nodes agree on expiry whatever their clocks say, and an entry never
// expires even a fraction of a millisecond before its TTL. Microsecond
// Unix times stay below 2^53, exact in a Lua number and a zset score.
const presenceNow = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
`

// addPresenceScript adds or refreshes an entry and extends both keys. The
// keys outlive the entries by a second: the zset decides expiry, the key
// TTL only cleans up channels nobody asks about.
//
// KEYS: 1 expiry zset, 2 data hash. ARGV: 1 TTL ms, 2 client id, 3 info.
var addPresenceScript = rueidis.NewLuaScript(presenceNow + `
local ttl = tonumber(ARGV[1])
redis.call('zadd', KEYS[1], string.format('%d', now + ttl * 1000), ARGV[2])
redis.call('hset', KEYS[2], ARGV[2], ARGV[3])
redis.call('pexpire', KEYS[1], string.format('%d', ttl + 1000))
redis.call('pexpire', KEYS[2], string.format('%d', ttl + 1000))
return 1
`)

// getPresenceScript drops expired entries and returns the rest: HGETALL
// when ARGV[1] is "all", HVALS otherwise.
//
// KEYS: 1 expiry zset, 2 data hash.
var getPresenceScript = rueidis.NewLuaScript(presenceNow + `
local bound = string.format('%d', now)
local expired = redis.call('zrangebyscore', KEYS[1], '-inf', bound)
if #expired > 0 then
  for i = 1, #expired, 1000 do
    redis.call('hdel', KEYS[2], unpack(expired, i, math.min(i + 999, #expired)))
  end
  redis.call('zremrangebyscore', KEYS[1], '-inf', bound)
end
if ARGV[1] == 'all' then
  return redis.call('hgetall', KEYS[2])
end
return redis.call('hvals', KEYS[2])
`)

// removePresenceScript removes one entry from both structures.
//
// KEYS: 1 expiry zset, 2 data hash. ARGV: 1 client id.
var removePresenceScript = rueidis.NewLuaScript(`
redis.call('zrem', KEYS[1], ARGV[1])
redis.call('hdel', KEYS[2], ARGV[1])
return 1
`)

// relayScript publishes on the master owning KEYS[1]'s slot (classic
// PUB/SUB in cluster mode; see partition.publish).
//
// KEYS: 1 routing key (not touched). ARGV: 1 PUB/SUB channel, 2 message.
var relayScript = rueidis.NewLuaScript(`
return redis.call('publish', ARGV[1], ARGV[2])
`)
