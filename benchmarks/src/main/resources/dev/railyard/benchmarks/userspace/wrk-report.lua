-- wrk report script of the userspace proxy load run (ProxyLoadRun): after the run, prints one line
--   RAILYARD_WRK {json}
-- with the totals, the error counts and the latency distribution (microseconds) at HdrHistogram-style
-- percentiles: 10 points per decade of 1/(1-p) from 0 % to 99.999 %, the usual named ones, and the maximum.
-- wrk's own latency histogram has 1 us buckets, so these are exact to the microsecond.

local function points()
  local ps = {}
  for k = 0, 50 do
    ps[#ps + 1] = 100 * (1 - 10 ^ (-k / 10))
  end
  for _, p in ipairs({50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100}) do
    ps[#ps + 1] = p
  end
  table.sort(ps)
  return ps
end

done = function(summary, latency, requests)
  local e = summary.errors
  local out = {}
  out[#out + 1] = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"max":%d,"mean":%.3f,"stdev":%.3f},"percentiles":[',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev)
  local first = true
  local last = -1
  for _, p in ipairs(points()) do
    if p ~= last then
      out[#out + 1] = string.format('%s[%.6f,%d]', first and '' or ',', p, latency:percentile(p))
      first = false
      last = p
    end
  end
  out[#out + 1] = ']}'
  io.write('RAILYARD_WRK ' .. table.concat(out) .. '\n')
end
