-- ModelGuard quota decisions: a line-by-line transcription of
-- io.modelguard.quota.QuotaArithmetic (tryAcquire, adjust), run atomically by Redis.
-- Every number stays an integer below 2^53, so Lua's doubles compute exactly what Java's longs do.
--
-- KEYS[i]  (i = 1..n) state of limit i: <prefix>{<partition>}:<name>:<t|s><window seconds>
--          (t = token bucket, a string; s = sliding window, a hash), so a limit redefined under
--          its name never reads the other algorithm's state (which would fail with WRONGTYPE) nor
--          another window's.
-- KEYS[n+1] this call's replay guard: <prefix>{<partition>}:c:<store instance>:<call number>,
--          unique per call. Read first; if absent, set (the script's first write) with a TTL of
--          replay_ms to '?' (the call is running); before the script returns, it holds the call's reply ('r ' and the reply's integers,
--          or 'e ' and the error reply), its TTL set again to replay_ms. A client that re-sends
--          the call after a lost reply (Lettuce does, on reconnecting) gets that same reply
--          again, and no quota key is read or written, since the operations are not idempotent
--          (a decision charges, a refund gives back). A guard whose reply cannot be read (still
--          '?', or another client wrote it) refuses the re-sent call with an error starting
--          MGREPLAY instead. The TTL outlives any re-send, so the key only costs memory for a
--          few seconds per call.
--          All keys share one hash tag, so this works on Redis Cluster.
-- ARGV     now_us ('' = Redis TIME: the normal case; a number only in tests), grace_ms (extra TTL),
--          replay_ms (TTL of the replay guard), n, then n x (algorithm, a, b), m, then
--          m x (kind, amount, decided_at_us)
--            algorithm 1 = token bucket:   a = interval us, b = tolerance us (state: TAT us)
--            algorithm 2 = sliding window: a = quota,       b = window ms    (state: index, current, previous,
--                                          mark: 0, or after a clock step back 2 x the window the
--                                          counts were moved back from + 1 if by more than one window)
--            kind 0 = acquire amount (cost); kind 1 = adjust by amount (refund < 0, forced charge > 0);
--            kind 2 = settle: as 1, followed by n numbers, the reservation's end (TAT just after it)
--            per limit (0 for a sliding window), past which a token bucket refund never reaches
-- State    what this script writes, and nothing else: a token bucket's key a string of decimal
--          digits; a sliding window's a hash of the fields i, c and p, and g while its mark is not 0
--          (absent: 0, so a key written before the mark existed reads as unmarked), each decimal
--          digits; every number below 2^53. An absent key is a full quota. A key holding anything else
--          (another client wrote it) is refused, as Redis refuses a key of another type
--          (WRONGTYPE): with an error starting MGBADSTATE and the key's position i, changing
--          nothing, rather than read as a full quota.
-- Returns  now_us, then for each operation: allowed (1/0), then 4 state numbers per limit (0 for
--          a token bucket's last three);
--          or the error WRONGTYPE or MGBADSTATE (a key's state), MGBADTIME (now_us before 1970,
--          only from a client's clock; nothing is read or written but the guard), or MGREPLAY
--          (see KEYS[n+1]).
local guard = KEYS[#KEYS]
local replayMs = ARGV[3]

-- A number as this script writes it: decimal digits, below 2^53; nil for anything else.
local function stateNumber(v)
  if type(v) ~= 'string' or #v == 0 or #v > 16 or not string.find(v, '^%d+$') then
    return nil
  end
  local x = tonumber(v)
  if x >= 9007199254740992 then
    return nil
  end
  return x
end

-- The guard is read before the script writes anything: above maxmemory Redis refuses a script's
-- first write (only that one), so a re-sent call whose first write is the guard's would get OOM
-- though its first run was applied; read, it gets that run's reply whatever the memory.
local kept = redis.pcall('GET', guard)
if kept then
  if type(kept) == 'string' and string.sub(kept, 1, 2) == 'e ' and #kept > 2 then
    return redis.error_reply(string.sub(kept, 3))
  end
  if type(kept) == 'string' and string.sub(kept, 1, 2) == 'r ' then
    local limits = tonumber(ARGV[4])
    local size = 1 + tonumber(ARGV[5 + 3 * limits]) * (1 + 4 * limits)
    local reply = {}
    for word in string.gmatch(string.sub(kept, 3), '[^ ]+') do
      reply[#reply + 1] = stateNumber(word) or false
      if #reply > size or not reply[#reply] then
        break
      end
    end
    if #reply == size and reply[size] then
      return reply
    end
  end
  return redis.error_reply('MGREPLAY this quota script call ran already; its reply was lost')
end
-- The first write, before any state is read: a Redis out of memory fails the call here, before it
-- changes anything.
redis.call('SET', guard, '?', 'PX', replayMs)

-- Ends the call with the error reply msg, kept for a replay of the call. Nothing was written but
-- the guard: every key is read before any is written.
local function refuse(msg)
  redis.call('SET', guard, 'e ' .. msg, 'PX', replayMs)
  return redis.error_reply(msg)
end

local SLICES = 65536
local now, nowMs
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
  nowMs = math.floor(now / 1000)
end
-- QuotaArithmetic refuses a time before 1970 alike: state is unsigned digits, all zeros a fresh key
if now < 0 then
  return refuse('MGBADTIME quota time ' .. string.format('%d', now) .. ' us is before 1970, which quota state cannot hold')
end
local grace = tonumber(ARGV[2])
local n = tonumber(ARGV[4])
local alg, pa, pb, s1, s2, s3, s4 = {}, {}, {}, {}, {}, {}, {}
local p = 5
for i = 1, n do
  alg[i] = tonumber(ARGV[p])
  pa[i] = tonumber(ARGV[p + 1])
  pb[i] = tonumber(ARGV[p + 2])
  p = p + 3
  -- pcall: a key of another type ends the call with WRONGTYPE, kept as the call's reply
  s1[i], s2[i], s3[i], s4[i] = 0, 0, 0, 0
  if alg[i] == 1 then
    local v = redis.pcall('GET', KEYS[i])
    if type(v) == 'table' then
      return refuse(v.err)
    elseif v then
      s1[i] = stateNumber(v)
    end
  else
    local fields = redis.pcall('HLEN', KEYS[i])
    if type(fields) == 'table' then
      return refuse(fields.err)
    elseif fields ~= 0 then
      local v = redis.call('HMGET', KEYS[i], 'i', 'c', 'p', 'g')
      s1[i], s2[i], s3[i] = stateNumber(v[1]), stateNumber(v[2]), stateNumber(v[3])
      if v[4] then
        s4[i] = stateNumber(v[4])
      end
      if fields ~= (v[4] and 4 or 3) then
        s1[i] = nil -- a field this script does not write
      end
    end
  end
  if not (s1[i] and s2[i] and s3[i] and s4[i]) then
    return refuse('MGBADSTATE ' .. i .. ' quota key holds a value this script does not write')
  end
end

-- floor(a / b) for non-negative integers, corrected for any rounding of the division
local function idiv(a, b)
  local q = math.floor(a / b)
  if (q + 1) * b <= a then
    q = q + 1
  elseif q * b > a then
    q = q - 1
  end
  return q
end

-- QuotaArithmetic.marked: whether limit i, at window idx, still carries a mark in force
local function marked(i, idx)
  return s4[i] ~= 0 and idx <= idiv(s4[i], 2) + 1
end

-- QuotaArithmetic.roll: move the window pair forward, return the elapsed slices
local function roll(i)
  local w = pb[i]
  local idx = idiv(nowMs, w)
  local stored = s1[i]
  if stored == idx - 1 then
    s3[i] = s2[i]
    s2[i] = 0
    s1[i] = idx
  elseif stored < idx - 1 then
    s2[i] = 0
    s3[i] = 0
    s1[i] = idx
  elseif stored > idx then
    return 0
  end
  if s4[i] ~= 0 and not marked(i, idx) then
    s4[i] = 0
  end
  return idiv((nowMs - idx * w) * SLICES, w)
end

-- QuotaArithmetic.moveBack: the window stored ahead moved back to idx with its counts, and marked
local function moveBack(i, idx)
  local stored = s1[i]
  local inForce = marked(i, stored)
  local from = stored
  if inForce then
    from = math.max(stored, idiv(s4[i], 2))
  end
  if not inForce and stored - idx == 1 then
    s4[i] = 2 * from
  else
    s4[i] = 2 * from + 1
  end
  s1[i] = idx
end

-- QuotaArithmetic.refundedCount: 1 current, 2 previous, 0 none
local function refundedCount(i, at)
  local idx = s1[i]
  if marked(i, idx) and at <= idiv(s4[i], 2) then
    if s4[i] % 2 ~= 0 then
      return 0
    end
    idx = idx + 1
  end
  if at == idx then
    return 1
  elseif at == idx - 1 then
    return 2
  end
  return 0
end

-- QuotaArithmetic.tryAcquire
local function acquire(cost)
  local fits = true
  for i = 1, n do
    if alg[i] == 1 then
      local tat = math.max(s1[i], now)
      if cost > pb[i] / pa[i] or tat + cost * pa[i] - now > pb[i] then
        fits = false
      end
    else
      local slice = roll(i)
      local room = pa[i] - s2[i] - cost
      if cost > pa[i] or room < 0 or s3[i] * (SLICES - slice) > room * SLICES then
        fits = false
      end
    end
  end
  if not fits then
    return 0
  end
  for i = 1, n do
    if alg[i] == 1 then
      s1[i] = math.max(s1[i], now) + cost * pa[i]
    else
      s2[i] = s2[i] + cost
    end
  end
  return 1
end

-- QuotaArithmetic.capLeads: a token bucket further ahead than 2 x tolerance, or a sliding window
-- stored ahead of now's, proves the clock stepped back; the bucket is brought back to that, the
-- window to now's with its counts, and the caller writes it even for a refusal and decides again
local function capLeads()
  local moved = false
  for i = 1, n do
    if alg[i] == 1 then
      if s1[i] - now > 2 * pb[i] then
        s1[i] = now + 2 * pb[i]
        moved = true
      end
    elseif s1[i] > idiv(nowMs, pb[i]) then
      moveBack(i, idiv(nowMs, pb[i]))
      moved = true
    end
  end
  return moved
end

-- QuotaArithmetic.adjust (ends: nil, or per limit the reservation's end)
local function adjust(delta, at, ends)
  if delta == 0 then
    return
  end
  for i = 1, n do
    if alg[i] == 1 then
      local quota = pb[i] / pa[i]
      local tat = math.min(math.max(s1[i], now), now + 2 * pb[i])
      local units = math.min(math.abs(delta), 2 * quota)
      if delta < 0 then
        local back = units * pa[i]
        if ends then
          back = math.min(back, math.max(0, ends[i] - now))
        end
        s1[i] = math.max(tat - back, now)
      else
        s1[i] = math.min(tat + units * pa[i], now + 2 * pb[i])
      end
    else
      roll(i)
      local max = 2 * pa[i]
      if delta > 0 then
        s2[i] = math.min(s2[i] + math.min(delta, max), max)
      else
        -- matched against the windows as stored, before a step back moves them
        local count = refundedCount(i, idiv(idiv(at, 1000), pb[i]))
        if count == 1 then
          s2[i] = math.max(0, s2[i] + math.max(delta, -max))
        elseif count == 2 then
          s3[i] = math.max(0, s3[i] + math.max(delta, -max))
        end
      end
      -- then moved back as capLeads does, with its counts
      if s1[i] > idiv(nowMs, pb[i]) then
        moveBack(i, idiv(nowMs, pb[i]))
      end
    end
  end
end

local out = { now }
local dirty = false
local m = tonumber(ARGV[p])
p = p + 1
for j = 1, m do
  local kind, amount, at = tonumber(ARGV[p]), tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2])
  p = p + 3
  local ends = nil
  if kind == 2 then
    ends = {}
    for i = 1, n do
      ends[i] = tonumber(ARGV[p])
      p = p + 1
    end
  end
  local ok = 1
  if kind == 0 then
    ok = acquire(amount)
    -- a refusal writes nothing unless capLeads moved something, then decides again, as in
    -- InMemoryQuotaStore
    if ok == 1 then
      dirty = true
    elseif capLeads() then
      dirty = true
      ok = acquire(amount)
    end
  else
    adjust(amount, at, ends)
    dirty = true
  end
  out[#out + 1] = ok
  for i = 1, n do
    out[#out + 1] = s1[i]
    out[#out + 1] = s2[i]
    out[#out + 1] = s3[i]
    out[#out + 1] = s4[i]
  end
end

if dirty then
  for i = 1, n do
    if alg[i] == 1 then
      local ttl = math.ceil((s1[i] - now) / 1000)
      if ttl <= 0 then
        redis.call('DEL', KEYS[i])
      else
        redis.call('SET', KEYS[i], string.format('%d', s1[i]), 'PX', ttl + grace)
      end
    elseif s2[i] == 0 and s3[i] == 0 and s4[i] == 0 then
      redis.call('DEL', KEYS[i])
    else
      redis.call('HSET', KEYS[i], 'i', string.format('%d', s1[i]), 'c', string.format('%d', s2[i]),
        'p', string.format('%d', s3[i]))
      -- the mark only while it is not 0: a key never moved back keeps the earlier three fields
      if s4[i] ~= 0 then
        redis.call('HSET', KEYS[i], 'g', string.format('%d', s4[i]))
      else
        redis.call('HDEL', KEYS[i], 'g')
      end
      -- kept while a count weighs or the mark decides refunds (QuotaArithmetic.isFresh)
      redis.call('PEXPIRE', KEYS[i], (math.max(s1[i], idiv(s4[i], 2)) + 2) * pb[i] - nowMs + grace)
    end
  end
end
-- Kept for a replay of the call: the reply's integers, truncated as Redis truncates them.
local words = {}
for k = 1, #out do
  words[k] = string.format('%d', out[k])
end
redis.call('SET', guard, 'r ' .. table.concat(words, ' '), 'PX', replayMs)
return out
