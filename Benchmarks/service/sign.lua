-- wrk: POST /v1/sign with an API key; SIGIL_KEY and the pacing come from the environment.
-- With WRK_DELAY_MS set, each connection waits that long before each request (a paced, open-ish
-- load: the offered rate is about connections * 1000 / delay while latency is well under the delay).
wrk.method = "POST"
wrk.body = '{"method": "GET", "url": "callout:Billing/v1/invoices?month=11"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SIGIL_KEY")
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if pause > 0 then
  function delay() return pause end
end
