-- wrk script: requests of one hot path of Track, spread over the benchmark users in turn.
-- Environment: BENCH_PATH (project, progress, week, post), BENCH_TOKENS (file of
-- "token project_id phase_id" lines), BENCH_FROM and BENCH_TO (the week's dates),
-- BENCH_DATES (comma list of past dates that new work logs rotate through).

local kind = os.getenv("BENCH_PATH")
local tokens_file = os.getenv("BENCH_TOKENS")
local week_from = os.getenv("BENCH_FROM")
local week_to = os.getenv("BENCH_TO")
local dates_list = os.getenv("BENCH_DATES") or ""

local thread_index = 0

function setup(thread)
  thread:set("offset", thread_index)
  thread_index = thread_index + 1
end

local users = {}
local dates = {}
local counter = 0

function init(args)
  for line in io.lines(tokens_file) do
    local token, project, phase = line:match("^(%S+) (%d+) (%d+)")
    if token then
      users[#users + 1] = {token = token, project = project, phase = phase}
    end
  end
  for day in dates_list:gmatch("[^,]+") do
    dates[#dates + 1] = day
  end
  -- Threads start far apart in the user list so they do not send for the same user at once.
  counter = (offset or 0) * math.floor(#users / 4)
end

function request()
  counter = counter + 1
  local user = users[counter % #users + 1]
  local headers = {["Authorization"] = "Bearer " .. user.token}
  if kind == "project" then
    return wrk.format("GET", "/api/v1/projects/" .. user.project, headers)
  elseif kind == "progress" then
    return wrk.format("GET", "/api/v1/projects/" .. user.project .. "/progress", headers)
  elseif kind == "week" then
    return wrk.format("GET", "/api/v1/worklogs?from=" .. week_from .. "&to=" .. week_to, headers)
  elseif kind == "post" then
    -- Each pass over the users moves to the next date, so no day nears its 24-hour cap.
    local day = dates[math.floor(counter / #users) % #dates + 1]
    headers["Content-Type"] = "application/json"
    local body = string.format(
      '{"project_id":%s,"phase_id":%s,"work_date":"%s","hours":0.25,"description":"bench %d"}',
      user.project, user.phase, day, counter)
    return wrk.format("POST", "/api/v1/worklogs", headers, body)
  end
  error("BENCH_PATH must be project, progress, week or post, not " .. tostring(kind))
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d}\n',
    summary.requests, summary.duration, errors.status, errors.connect, errors.read,
    errors.write, errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
