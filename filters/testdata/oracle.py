# Computes the expected match counts of filter expressions in plain Python,
# straight from the JSON, for the table tests in ../vocab_test.go:
#
#   python3 oracle.py ../../testdata/kube-apiserver-v1.37/audit.log recording-cases.txt
#
# Each case line is "EXPR ||| PYTHON" where PYTHON tests one event x.
import json, sys, re, ipaddress
from datetime import datetime, timezone, timedelta
path = sys.argv[1]
ev = [json.loads(l) for l in open(path) if l.strip()]
def ts(s):
    if not s: return None
    s = s.replace('Z', '+00:00')
    m = re.match(r'(.*\.\d{6})\d*(.*)', s)
    if m: s = m.group(1)+m.group(2)
    return datetime.fromisoformat(s)
def T(e): return ts(e.get('requestReceivedTimestamp') or e.get('stageTimestamp') or e.get('timestamp'))
times = [T(e) for e in ev]
now = max(t for t in times if t)
class E:
    def __init__(s, e):
        u = e.get('user') or {}
        iu = e.get('impersonatedUser') or {}
        o = e.get('objectRef') or {}
        rs = e.get('responseStatus') or {}
        an = e.get('annotations') or {}
        s.user = u.get('username', '')
        s.groups = u.get('groups') or []
        s.userUID = u.get('uid', '')
        s.impersonatedUser = iu.get('username', '')
        s.impersonatedGroups = iu.get('groups') or []
        s.effectiveUser = s.impersonatedUser or s.user
        s.verb = e.get('verb', ''); s.resource = o.get('resource', ''); s.subresource = o.get('subresource', '')
        s.namespace = o.get('namespace', ''); s.name = o.get('name', ''); s.objectUID = o.get('uid', '')
        s.apiGroup = o.get('apiGroup', ''); s.apiVersion = o.get('apiVersion', '')
        s.uri = e.get('requestURI', ''); s.code = rs.get('code', 0); s.reason = rs.get('reason', ''); s.message = rs.get('message', '')
        s.level = e.get('level', ''); s.stage = e.get('stage', '')
        ips = e.get('sourceIPs') or []
        s.sourceIP = ips[0] if ips else ''; s.sourceIPs = ips
        s.userAgent = e.get('userAgent', ''); s.decision = an.get('authorization.k8s.io/decision', '')
        s.authzReason = an.get('authorization.k8s.io/reason', ''); s.annotations = an
        s.time = T(e)
        a, b = ts(e.get('requestReceivedTimestamp')), ts(e.get('stageTimestamp'))
        s.latency = (b - a) if a and b else timedelta(0)
        s.auditID = e.get('auditID', ''); s.requestObject = e.get('requestObject'); s.responseObject = e.get('responseObject')
def g(d, *path):
    for p in path:
        if isinstance(p, int):
            if not isinstance(d, list) or p >= len(d): return None
        elif not isinstance(d, dict): return None
        d = d[p] if (isinstance(p, int) or p in d) else None
        if d is None: return None
    return d
ES = [E(e) for e in ev]
print("now", now.isoformat())
cases = [l.rstrip('\n') for l in open(sys.argv[2]) if l.strip() and not l.startswith('#')]
for c in cases:
    expr, py = c.split(' ||| ')
    n = sum(1 for x in ES if eval(py, {'x': x, 'g': g, 'now': now, 'td': timedelta, 'ip': ipaddress, 're': re, 'ts': ts}))
    print(f'\t{{{json.dumps(expr)}, {n}}},')
