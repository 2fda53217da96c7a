-- wrk script: every request is a GET of a path picked at random from the
-- file named by the environment variable BENCH_PATHS (one path a line, e.g.
-- /metadata/<identifier>). Used by bench/server.sh.
local paths = {}
local file = os.getenv("BENCH_PATHS")
if not file then
  error("BENCH_PATHS must name a file of request paths")
end
for line in io.lines(file) do
  if line ~= "" then
    paths[#paths + 1] = line
  end
end
if #paths == 0 then
  error("no paths in " .. file)
end

local counter = 0

function init(args)
  -- Each wrk thread has its own Lua state: seed each differently.
  counter = tonumber(tostring({}):match("0x(%x+)"), 16) or os.time()
  math.randomseed(os.time() + counter)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
