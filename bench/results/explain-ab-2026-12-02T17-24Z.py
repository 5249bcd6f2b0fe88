import subprocess, time, statistics, json, sys
W="/tmp/abx/p.toml"
L="for i in $(seq 1 20); do /usr/bin/python3 -c 'import json, ssl, pathlib'; done"
arms={"2c29b36":"/tmp/old/main.ts","HEAD":"/work/main/main.ts"}
res={k:{"explain":[], "plain":[]} for k in arms}
for r in range(12):
    order=list(arms.items()) if r%2==0 else list(arms.items())[::-1]
    for name,main in order:
        for mode in ("explain","plain"):
            argv=["deno","run","--allow-all",main,"run"]+(["--explain"] if mode=="explain" else [])+["--policy-file",W,"--","sh","-c",L]
            t=time.perf_counter(); subprocess.run(argv,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL,check=True); res[name][mode].append((time.perf_counter()-t)*1000)
out={k:{m:round(statistics.median(v),1) for m,v in d.items()} for k,d in res.items()}
for k in out: out[k]["explain/plain"]=round(out[k]["explain"]/out[k]["plain"],3)
print(json.dumps({"command":"20 python3 imports in one sandbox, fs-layer policy, 12 interleaved rounds","medians_ms":out,"raw_ms":res}))
