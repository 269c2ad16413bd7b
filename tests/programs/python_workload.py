# python_workload.py: a real workload (sqlite3 in memory, hashing, regexes,
# decimals, sleeping, directory listing, file reading) whose output must be
# the same natively and under runsc.
import sqlite3, hashlib, re, datetime, json, math, random, collections, decimal, time, os, sys
db = sqlite3.connect(":memory:")
db.execute("create table t(a integer, b text)")
db.executemany("insert into t values (?, ?)", [(i, str(i*i)) for i in range(1000)])
print(db.execute("select count(*), sum(a), max(b) from t").fetchone())
print(hashlib.sha256(b"runsc").hexdigest()[:16])
print(re.findall(r"\d+", "a1b22c333"))
print(decimal.Decimal(1) / decimal.Decimal(7))
t0 = time.monotonic(); time.sleep(0.01); print(time.monotonic() - t0 >= 0.01)
print(sorted(os.listdir("/etc/apt"))[:3], os.getcwd() == os.path.realpath("."))
print(len(open("/etc/passwd").read().splitlines()) > 5)
