"""Re-run every measurement and print all tables (about 9 minutes).
Usage: .venv/bin/python run_all.py [en id ru nl emoji]   (default: all). Also writes tables.md."""
import sys, time, warnings
warnings.filterwarnings("ignore")

parts = sys.argv[1:] or ["en", "id", "ru", "nl", "emoji"]
out = []
for p in parts:
    t0 = time.time()
    mod = __import__({"en": "en_eval", "id": "id_eval", "ru": "ru_eval", "nl": "nl_eval", "emoji": "emoji_eval"}[p])
    r = mod.run()
    txt = mod.table(*r) if isinstance(r, tuple) else mod.table(r)
    block = f"## {p}\n\n{txt}\n\n({time.time()-t0:.0f} s)\n"
    print(block, flush=True); out.append(block)
open("tables.md", "w").write("\n".join(out))
