#!/usr/bin/env python3
"""Checks the equation-to-code tables of the chapter READMEs: every `src/FILE.rs:A–B name`
must lie inside FILE, and a named range must hold (or sit in) that function or type.

    python3 scripts/check_line_ranges.py     # from the repository root; prints the suspicious ones
"""
import re,sys,os
pat=re.compile(r"`((?:[a-z_\-]+/)*src/[A-Za-z_/]+\.rs):(\d+)[–-](\d+)(?:\s+([A-Za-z_:]+))?`?")
bad=0;total=0
for crate in sorted(os.listdir('.')):
    rd=os.path.join(crate,'README.md')
    if not os.path.isfile(rd) or not os.path.isdir(os.path.join(crate,'src')): continue
    for ln,line in enumerate(open(rd),1):
        for m in pat.finditer(line):
            path,a,b,name=m.group(1),int(m.group(2)),int(m.group(3)),m.group(4)
            f=os.path.join(crate,path) if not path.startswith(crate) else path
            if not os.path.exists(f):
                f2=path
                if os.path.exists(f2): f=f2
                else:
                    print(f"{rd}:{ln}: missing file {path}"); bad+=1; continue
            src=open(f).read().split('\n')
            total+=1
            if b>len(src) or a>b:
                print(f"{rd}:{ln}: {path}:{a}-{b} out of file ({len(src)} lines)"); bad+=1; continue
            if not name: continue
            last=name.split('::')[-1]
            # nearest fn/struct/impl decl at or before line b, scanning back from b
            ok=False
            for i in range(b-1,max(-1,a-400),-1):
                mm=re.search(r"\b(?:fn|struct|enum|const|static|type|trait|mod|macro_rules!)\s+([A-Za-z_0-9]+)",src[i])
                if mm:
                    ok = mm.group(1)==last or (i>=a-1 and any(re.search(r"\b(?:fn|struct|enum|const|type|trait)\s+"+re.escape(last)+r"\b",src[j]) for j in range(a-1,b)))
                    if not ok and i>=a-1: continue
                    break
            if not ok:
                # accept if the name is declared anywhere within [a,b]
                if any(re.search(r"\b(?:fn|struct|enum|const|type|trait|impl)\b.*\b"+re.escape(last)+r"\b",src[j]) for j in range(a-1,b)): ok=True
            if not ok:
                print(f"{rd}:{ln}: {path}:{a}-{b} does not look like {name}"); bad+=1
print(f"{total} ranges, {bad} suspicious")
sys.exit(1 if bad else 0)
