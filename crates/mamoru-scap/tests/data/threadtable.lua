description = "Prints the thread table loaded from the capture's process list"
short_description = "thread table dump"
category = "Misc"
args = {}
function on_init() return true end
function on_event() sysdig.end_capture() return false end
function on_capture_end()
  local t = sysdig.get_thread_table()
  for tid, p in pairs(t) do
    print(tostring(tid) .. "\t" .. tostring(p.pid) .. "\t" .. tostring(p.ptid) .. "\t" .. tostring(p.comm) .. "\t" .. tostring(p.exe))
  end
end
