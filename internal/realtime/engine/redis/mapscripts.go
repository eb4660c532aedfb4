package redis

import (
	"context"

	"github.com/redis/rueidis"
)

// The map scripts keep a map's six keys (keys.mapKeys) consistent with
// each other and with what PUB/SUB delivers: each write, removal and read
// is one script call, so offsets, state and delivery order agree across
// nodes. They share mapPrelude; all times are Redis' clock in
// milliseconds, so nodes with skewed clocks still agree on key expiry.
//
// A state value (the state hash's field value) is
//
//	<offset> ':' <version> ':' <n> ':' <version epoch: n bytes> <publication>
//
// where the publication is encodePublication's output (with the key), so a
// script can compare versions and find the data without decoding it in
// Go. Offsets and versions are decimal; versions compare as decimal
// strings (Lua numbers would lose uint64 precision).
//
// The meta hash holds e (epoch), s (top offset) and the stream settings
// of the last write — ss (stream size, "0": ephemeral), st (stream TTL ms,
// "0": none), mt (meta TTL ms, "0": default) — so expiry removals made by
// the cleanup loop, which knows no options, are kept like writes are;
// and two hints that spare calls: x (the map has had key TTLs) and v (the
// meta has a TTL).

// mapPrelude names the keys and defines the helpers.
// KEYS: 1 meta, 2 stream, 3 state, 4 key order zset, 5 key expiry zset,
// 6 partition's expiring-maps index.
const mapPrelude = `
local meta, stream, state, order, expiry, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local M = {}

-- clock returns Redis time in ms, asking Redis once per call and only
-- when needed: writes to maps without key TTLs never do.
local now = nil
local function clock()
  if not now then
    local t = redis.call('time')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return now
end

local function uvarint(n)
  local out = {}
  while n >= 128 do
    out[#out + 1] = string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  out[#out + 1] = string.char(n)
  return table.concat(out)
end

-- load_meta reads the position into M, creating it with new_epoch when
-- missing (dropping a stream that outlived its meta). Returns created.
-- Besides the fields above, x = "1" says the map has had key TTLs (so
-- writes must look for due keys) and v = "1" that the meta has a TTL (so
-- a write with meta TTL 0 must PERSIST it); both spare calls on the hot
-- path of maps without TTLs.
local function load_meta(new_epoch)
  local m = redis.call('hmget', meta, 'e', 's', 'ss', 'st', 'mt', 'x', 'v')
  M.ss, M.st, M.mt, M.x, M.v = m[3] or '0', m[4] or '0', m[5] or '0', m[6] or '0', m[7] or '0'
  if m[1] then
    M.epoch, M.top = m[1], m[2] or '0'
    return false
  end
  redis.call('del', stream)
  redis.call('hset', meta, 'e', new_epoch, 's', '0')
  M.epoch, M.top = new_epoch, '0'
  if redis.call('exists', expiry) == 1 then
    redis.call('hset', meta, 'x', '1')
    M.x = '1'
  end
  return true
end

local function mark(field, value)
  if M[field] ~= value then
    redis.call('hset', meta, field, value)
    M[field] = value
  end
end

local function set_opts(ss, st, mt)
  if ss ~= M.ss or st ~= M.st or mt ~= M.mt then
    redis.call('hset', meta, 'ss', ss, 'st', st, 'mt', mt)
    M.ss, M.st, M.mt = ss, st, mt
  end
end

-- settle_meta gives the meta its lifetime: mt ms (only ever extended), or
-- with mt "0" none while the map holds a position or keys, else idle ms
-- (renewed by every access) so a map that was only read is forgotten.
local function settle_meta(mt, idle)
  local ttl = tonumber(mt)
  if ttl > 0 then
    if redis.call('pttl', meta) < ttl then
      redis.call('pexpire', meta, mt)
    end
    mark('v', '1')
  elseif M.top ~= '0' or redis.call('hlen', state) > 0 then
    if M.v == '1' then
      redis.call('persist', meta)
      mark('v', '0')
    end
  else
    redis.call('pexpire', meta, idle)
    mark('v', '1')
  end
end

-- append gives a change the next offset and keeps it in the stream, for
-- stream-backed maps; ephemeral ones leave offsets at 0.
local function append(body)
  if M.ss == '0' then
    return '0'
  end
  M.top = string.format('%d', redis.call('hincrby', meta, 's', 1))
  redis.call('xadd', stream, 'MAXLEN', M.ss, M.top, 'd', body)
  if M.st ~= '0' then
    redis.call('pexpire', stream, M.st)
  end
  return M.top
end

-- deliver publishes a change; base, when set, is the key's previous
-- value (frameWithBase).
local function deliver(pubsub, cmd, offset, body, base)
  if base then
    redis.call(cmd, pubsub, 'q' .. offset .. ':' .. M.epoch .. ':' .. #base .. ':' .. base .. body)
  else
    redis.call(cmd, pubsub, 'p' .. offset .. ':' .. M.epoch .. ':' .. body)
  end
end

-- removal_body encodes {key, removed, time} exactly as encodePublication
-- does: version 2, zigzag time, empty data, no info, no tags, flags
-- flagMap|flagRemoved, the key.
local function removal_body(key)
  return '\2' .. uvarint(clock() * 2) .. '\0\0\0\6' .. uvarint(#key) .. key
end

local function remove_key(key, body, pubsub, cmd)
  redis.call('hdel', state, key)
  redis.call('zrem', order, key)
  if M.x == '1' then
    redis.call('zrem', expiry, key)
  end
  deliver(pubsub, cmd, append(body), body, nil)
end

-- expire_due removes up to limit keys whose TTL passed, as removals
-- every subscriber sees. Returns how many.
local function expire_due(limit, pubsub, cmd)
  if M.x ~= '1' then
    return 0
  end
  local due = redis.call('zrangebyscore', expiry, '-inf', string.format('%d', clock()), 'LIMIT', 0, limit)
  for _, key in ipairs(due) do
    remove_key(key, removal_body(key), pubsub, cmd)
  end
  return #due
end

-- index_at makes the cleanup loop look at the channel by time at.
local function index_at(channel, at)
  local s = redis.call('zscore', index, channel)
  if not s or tonumber(s) > at then
    redis.call('zadd', index, string.format('%d', at), channel)
  end
end

local function set_ttl(key, ttl, channel)
  if ttl > 0 then
    local at = clock() + ttl
    redis.call('zadd', expiry, string.format('%d', at), key)
    index_at(channel, at)
    mark('x', '1')
  elseif M.x == '1' then
    redis.call('zrem', expiry, key)
  end
end

-- parse_entry splits a state value: offset, version, version epoch and
-- where the publication starts.
local function parse_entry(v)
  local a = string.find(v, ':', 1, true)
  local b = string.find(v, ':', a + 1, true)
  local c = string.find(v, ':', b + 1, true)
  local n = tonumber(string.sub(v, b + 1, c - 1))
  return string.sub(v, 1, a - 1), string.sub(v, a + 1, b - 1), string.sub(v, c + 1, c + n), c + n + 1
end

-- body_data returns the data field of the publication at pos: skip the
-- version byte and the time varint, read the length uvarint.
local function body_data(v, pos)
  pos = pos + 1
  while string.byte(v, pos) >= 128 do
    pos = pos + 1
  end
  pos = pos + 1
  local n, mul = 0, 1
  while true do
    local c = string.byte(v, pos)
    pos = pos + 1
    if c < 128 then
      n = n + c * mul
      break
    end
    n = n + (c - 128) * mul
    mul = mul * 128
  end
  return string.sub(v, pos, pos + n - 1)
end

-- newer compares decimal strings without leading zeros.
local function newer(a, b)
  if #a ~= #b then
    return #a > #b
  end
  return a > b
end

-- cached returns the idempotent result stored at key when it belongs to
-- the map's current epoch (a cleared map forgets its results).
local function cached(key)
  local prev = redis.call('get', key)
  if not prev then
    return nil
  end
  local sep = string.find(prev, ':', 1, true)
  local epoch = redis.call('hget', meta, 'e')
  if sep and epoch and string.sub(prev, sep + 1) == epoch then
    return {1, string.sub(prev, 1, sep - 1), epoch, 'idempotency'}
  end
  return nil
end
`

// mapPublishScript writes one key.
//
// KEYS: 1-6 as mapPrelude, 7 idempotency result.
// ARGV: 1 channel, 2 PUB/SUB channel, 3 "publish"/"spublish", 4 key,
// 5 encoded publication, 6 stream size, 7 stream TTL ms, 8 meta TTL ms,
// 9 key TTL ms ("0": none), 10 epoch to use if missing, 11 result TTL ms
// ("0": no idempotency key), 12 key mode (0 any, 1 if new, 2 if exists),
// 13 refresh TTL on suppress (0/1), 14 version ("0": none), 15 version
// epoch, 16 delta (0/1), 17 idle meta TTL ms, 18 expiry batch.
// Returns {suppressed (0/1), top offset, epoch, suppress reason}.
var mapPublishScript = rueidis.NewLuaScript(mapPrelude + `
if ARGV[11] ~= '0' then
  local r = cached(KEYS[7])
  if r then
    return r
  end
end
load_meta(ARGV[10])
-- Due keys go first, kept with the settings they were written with.
expire_due(tonumber(ARGV[18]), ARGV[2], ARGV[3])
set_opts(ARGV[6], ARGV[7], ARGV[8])
local key = ARGV[4]
local cur = redis.call('hget', state, key)
local reason = ''
if ARGV[12] == '1' and cur then
  reason = 'key_exists'
elseif ARGV[12] == '2' and not cur then
  reason = 'key_not_found'
elseif ARGV[14] ~= '0' and ARGV[6] ~= '0' and cur then
  local _, version, vepoch = parse_entry(cur)
  if vepoch == ARGV[15] and not newer(ARGV[14], version) then
    reason = 'version'
  end
end
local ttl = tonumber(ARGV[9])
if reason ~= '' then
  if ARGV[13] == '1' and cur then
    set_ttl(key, ttl, ARGV[1])
  end
  settle_meta(ARGV[8], ARGV[17])
  return {1, M.top, M.epoch, reason}
end
local offset = append(ARGV[5])
redis.call('hset', state, key, offset .. ':' .. ARGV[14] .. ':' .. #ARGV[15] .. ':' .. ARGV[15] .. ARGV[5])
if not cur then
  redis.call('zadd', order, 0, key)
end
set_ttl(key, ttl, ARGV[1])
settle_meta(ARGV[8], ARGV[17])
local base = nil
if ARGV[16] == '1' and cur then
  local _, _, _, pos = parse_entry(cur)
  base = body_data(cur, pos)
end
deliver(ARGV[2], ARGV[3], offset, ARGV[5], base)
if ARGV[11] ~= '0' then
  redis.call('set', KEYS[7], M.top .. ':' .. M.epoch, 'PX', ARGV[11])
end
return {0, M.top, M.epoch, ''}
`)

// mapRemoveScript removes one key.
//
// KEYS: 1-6 as mapPrelude, 7 idempotency result.
// ARGV: 1 channel, 2 PUB/SUB channel, 3 "publish"/"spublish", 4 key,
// 5 encoded removal, 6 stream size, 7 stream TTL ms, 8 meta TTL ms,
// 9 epoch to use if missing, 10 result TTL ms ("0": no idempotency key),
// 11 idle meta TTL ms, 12 expiry batch.
// Returns {suppressed (0/1), top offset, epoch, suppress reason}.
var mapRemoveScript = rueidis.NewLuaScript(mapPrelude + `
if ARGV[10] ~= '0' then
  local r = cached(KEYS[7])
  if r then
    return r
  end
end
local created = load_meta(ARGV[9])
expire_due(tonumber(ARGV[12]), ARGV[2], ARGV[3])
if redis.call('hexists', state, ARGV[4]) == 0 then
  if created then
    settle_meta(ARGV[8], ARGV[11])
  end
  return {1, M.top, M.epoch, 'key_not_found'}
end
set_opts(ARGV[6], ARGV[7], ARGV[8])
remove_key(ARGV[4], ARGV[5], ARGV[2], ARGV[3])
settle_meta(ARGV[8], ARGV[11])
if ARGV[10] ~= '0' then
  redis.call('set', KEYS[7], M.top .. ':' .. M.epoch, 'PX', ARGV[10])
end
return {0, M.top, M.epoch, ''}
`)

// mapStateScript reads one page of state in key order, creating the meta
// when missing so the epoch stays the same across pages. Entries changed
// after the revision offset are left out and do not count towards the
// limit; the cursor is the last key returned when more keys follow.
//
// KEYS: 1-6 as mapPrelude.
// ARGV: 1 epoch to use if missing, 2 meta TTL ms, 3 idle meta TTL ms,
// 4 PUB/SUB channel, 5 "publish"/"spublish", 6 expiry batch, 7 has
// revision (0/1), 8 revision offset, 9 revision epoch, 10 single key
// ("": a page), 11 cursor, 12 limit ("0": all).
// Returns {unrecoverable (0/1), top offset, epoch, cursor, key, value, ...}.
var mapStateScript = rueidis.NewLuaScript(mapPrelude + `
load_meta(ARGV[1])
expire_due(tonumber(ARGV[6]), ARGV[4], ARGV[5])
settle_meta(ARGV[2], ARGV[3])
if ARGV[7] == '1' and ARGV[9] ~= '' and ARGV[9] ~= M.epoch then
  return {1, M.top, M.epoch, ''}
end
local rev = nil
if ARGV[7] == '1' then
  rev = tonumber(ARGV[8])
end
local function keep(v)
  return not rev or tonumber(string.match(v, '^(%d+):')) <= rev
end
local out = {0, M.top, M.epoch, ''}
if ARGV[10] ~= '' then
  local v = redis.call('hget', state, ARGV[10])
  if v and keep(v) then
    out[5], out[6] = ARGV[10], v
  end
  return out
end
local limit = tonumber(ARGV[12])
local start = '-'
if ARGV[11] ~= '' then
  start = '(' .. ARGV[11]
end
local kept = 0
while true do
  local want = 1000
  if limit > 0 then
    want = math.min(limit - kept + 1, 1000)
  end
  local ks = redis.call('zrangebylex', order, start, '+', 'LIMIT', 0, want)
  if #ks == 0 then
    return out
  end
  local vs = redis.call('hmget', state, unpack(ks))
  for i, k in ipairs(ks) do
    if limit > 0 and kept == limit then
      out[4] = out[#out - 1]
      return out
    end
    local v = vs[i]
    if v and keep(v) then
      out[#out + 1] = k
      out[#out + 1] = v
      kept = kept + 1
    end
  end
  if #ks < want then
    return out
  end
  start = '(' .. ks[#ks]
end
`)

// mapStreamMetaSource reads (or creates) a map's position and the id of
// its oldest kept change, after applying due expiries. MapStream runs it
// in a MULTI with a plain XRANGE, like History, so position and changes
// agree without returning the changes through Lua.
//
// KEYS: 1-6 as mapPrelude.
// ARGV: 1 epoch to use if missing, 2 meta TTL ms, 3 idle meta TTL ms,
// 4 PUB/SUB channel, 5 "publish"/"spublish", 6 expiry batch.
// Returns {top offset, epoch, oldest stream id or "0"}.
const mapStreamMetaSource = mapPrelude + `
load_meta(ARGV[1])
expire_due(tonumber(ARGV[6]), ARGV[4], ARGV[5])
settle_meta(ARGV[2], ARGV[3])
local first = redis.call('xrange', stream, '-', '+', 'COUNT', 1)
local id = '0'
if first[1] then
  id = first[1][1]
end
return {M.top, M.epoch, id}
`

var (
	mapStreamMetaScript = rueidis.NewLuaScript(mapStreamMetaSource)
	mapStreamMetaSHA    = sha1Hex(mapStreamMetaSource)
)

// mapExpireSource is the cleanup loop's step for one map: remove up to a
// batch of expired keys (publishing the removals and keeping them in the
// stream with the last write's settings), then file the map in the index
// under its next expiry, or take it out.
//
// KEYS: 1-6 as mapPrelude.
// ARGV: 1 channel, 2 PUB/SUB channel, 3 "publish"/"spublish", 4 batch,
// 5 epoch to use if the meta is missing, 6 idle meta TTL ms.
// Returns how many keys were removed.
const mapExpireSource = mapPrelude + `
local n = 0
if redis.call('zcard', expiry) > 0 then
  local created = load_meta(ARGV[5])
  M.x = '1'
  n = expire_due(tonumber(ARGV[4]), ARGV[2], ARGV[3])
  if n > 0 or created then
    settle_meta(M.mt, ARGV[6])
  end
end
local first = redis.call('zrange', expiry, 0, 0, 'WITHSCORES')
if first[2] then
  redis.call('zadd', index, first[2], ARGV[1])
else
  redis.call('zrem', index, ARGV[1])
end
return n
`

var (
	mapExpireScript = rueidis.NewLuaScript(mapExpireSource)
	mapExpireSHA    = sha1Hex(mapExpireSource)
)

// mapDueSource lists the maps of a partition with keys due by Redis'
// clock. KEYS: 1 index. ARGV: 1 batch. Returns channel names.
const mapDueSource = `
local t = redis.call('time')
local now = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return redis.call('zrangebyscore', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[1])
`

var (
	mapDueScript = rueidis.NewLuaScript(mapDueSource)
	mapDueSHA    = sha1Hex(mapDueSource)
)

// mapStatsScript counts the keys not yet expired (the cleanup loop may
// not have removed them yet). KEYS: 1 order zset, 2 expiry zset.
var mapStatsScript = rueidis.NewLuaScript(`
local t = redis.call('time')
local now = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return redis.call('zcard', KEYS[1]) - redis.call('zcount', KEYS[2], '-inf', now)
`)

// mapClearScript drops a map whole. KEYS: 1-6 as mapPrelude. ARGV: 1
// channel.
var mapClearScript = rueidis.NewLuaScript(`
redis.call('del', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('zrem', KEYS[6], ARGV[1])
return 1
`)

// evalMulti pipelines one script over many key sets with EVALSHA,
// falling back to Exec (which loads the script) for any that Redis does
// not know. Unlike rueidis' ExecMulti it does not SCRIPT LOAD on every
// call, which matters for a loop that runs every second.
func evalMulti(ctx context.Context, c rueidis.Client, script *rueidis.Lua, sha string, execs []rueidis.LuaExec) []rueidis.RedisResult {
	cmds := make(rueidis.Commands, 0, len(execs))
	for _, x := range execs {
		cmds = append(cmds, c.B().Evalsha().Sha1(sha).Numkeys(int64(len(x.Keys))).Key(x.Keys...).Arg(x.Args...).Build())
	}
	resps := c.DoMulti(ctx, cmds...)
	for i, r := range resps {
		if re, ok := rueidis.IsRedisErr(r.Error()); ok && re.IsNoScript() {
			resps[i] = script.Exec(ctx, c, execs[i].Keys, execs[i].Args)
		}
	}
	return resps
}
