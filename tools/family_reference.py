"""Independent reference for the family's optima at T != 1 (pure Python, no dependencies).

Dense trapezoid rule (60 001 points of eps in [-12, 12]) for the logit-shift family
z = kappa (2y - 1) + sigma eps + b at u = 0.1, kappa = 0.5, sigma = 1, lambda = 1, T = 10 (the
authors' setting in docs/THEORY.md), then golden section over b. Prints each loss's soft
optimum as a ratio to u. Output (2026-12-01): kl 1.918270 (CE+KL), l1 2.449095 (CE+L1). The
core's claims test (crates/core/tests/claims.rs) checks the family view against these.
Run: python3 tools/family_reference.py (about 25 s).
"""
import math
u,k,sg,lam,T=0.1,0.5,1.0,1.0,10.0
N=60001; L=12.0
h=2*L/(N-1)
eps=[-L+i*h for i in range(N)]
w=[h*math.exp(-0.5*e*e)/math.sqrt(2*math.pi)*(0.5 if i in (0,N-1) else 1) for i,e in enumerate(eps)]
def sig(x): return 1/(1+math.exp(-x)) if x>=0 else math.exp(x)/(1+math.exp(x))
def lsig(x): return -math.log1p(math.exp(-x)) if x>=0 else x-math.log1p(math.exp(x))
def f(b,reg):
    s=st=ce=0.0
    for e,wi in zip(eps,w):
        zf=k+sg*e+b; zb=-k+sg*e+b
        s+=wi*(u*sig(zf)+(1-u)*sig(zb))
        st+=wi*(u*sig(T*zf)+(1-u)*sig(T*zb))
        ce+=wi*(-u*lsig(zf)-(1-u)*lsig(-zb))
    if reg=='kl': r=u*math.log(u/st)+(1-u)*math.log((1-u)/(1-st))
    else: r=abs(st-u)
    return ce+lam*r, s
def golden(g,a,c,tol=1e-7):
    gr=(math.sqrt(5)-1)/2
    x1=c-gr*(c-a); x2=a+gr*(c-a); f1=g(x1); f2=g(x2)
    while c-a>tol:
        if f1<f2: c,x2,f2=x2,x1,f1; x1=c-gr*(c-a); f1=g(x1)
        else: a,x1,f1=x1,x2,f2; x2=a+gr*(c-a); f2=g(x2)
    return (a+c)/2
for reg in ('kl','l1'):
    # coarse grid
    bs=[-4+0.1*i for i in range(61)]
    vals=[f(b,reg)[0] for b in bs]
    j=min(range(len(bs)),key=lambda i:vals[i])
    b=golden(lambda b:f(b,reg)[0],bs[j]-0.1,bs[j]+0.1)
    print(reg, 'b =', b, 'ratio =', f(b,reg)[1]/u)
