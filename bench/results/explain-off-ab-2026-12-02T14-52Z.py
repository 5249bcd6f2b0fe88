import subprocess,time,statistics,sys
P='/var/tmp/abwork/without.toml'
py="/usr/bin/python3" 
cmd=lambda root:["deno","run","--allow-all",f"{root}/main.ts","run","--policy-file",P,"--",py,"-c","import json, ssl, pathlib"]
A,B=[],[]
for i in range(int(sys.argv[1])):
    for root,acc in (( "/var/tmp/old",A),("/work/main",B)) if i%2==0 else (("/work/main",B),("/var/tmp/old",A)):
        t=time.perf_counter(); r=subprocess.run(cmd(root),capture_output=True); dt=(time.perf_counter()-t)*1000
        if r.returncode!=0: print(root, r.stderr[-300:]); sys.exit(1)
        acc.append(dt)
print("before (49b9e1b, no explain code) median %.1f ms; after (HEAD, explain off) median %.1f ms; ratio %.3f; n=%d"%(statistics.median(A),statistics.median(B),statistics.median(B)/statistics.median(A),len(A)))
import json,os
json.dump({"what":"python3 -c 'import json, ssl, pathlib' under a read-only [[fs_layer]] policy without [broker], landlockd run without --explain, alternating before/after run by run",
 "before_commit":"49b9e1b (before the observer existed)","after_commit":subprocess.run(["git","-C","/work/main","rev-parse","--short","HEAD"],capture_output=True,text=True).stdout.strip(),
 "loadavg":os.getloadavg(),"before_ms":A,"after_ms":B,"median_before_ms":statistics.median(A),"median_after_ms":statistics.median(B),
 "note":"QEMU kernel checks ran on the other CPU at the same time; both arms interleaved"},open(sys.argv[2],"w"),indent=1)
