"""PyTorch peer (run by `npm run bench` when python3 has torch): the same LM-PPO iteration the playground runs (names task,
reward = name length, batch 64, 4 epochs x 2 minibatches of 32, no KV cache),
timed on this CPU with one thread. Prints one JSON line: median seconds per
PPO iteration (after the first) and its split into rollout and update.

Sized like the playground's default policies (max completion 20 tokens):
    python3 peer_ppo.py --arch mlp --window 8 --embed 16 --width 64 --ctx 21
    python3 peer_ppo.py --arch transformer --width 64 --layers 2 --heads 4 --ctx 21
Needs Debian's python3-torch (apt-get install python3-torch). If OpenBLAS
misbehaves, unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE.
"""
import argparse, json, os, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--names', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'names.txt'))
p.add_argument('--arch', default='mlp', choices=['mlp', 'transformer'])
p.add_argument('--batch', type=int, default=64)
p.add_argument('--epochs', type=int, default=4)
p.add_argument('--minibatch', type=int, default=32)
p.add_argument('--ctx', type=int, default=16)      # transformer context = max tokens
p.add_argument('--window', type=int, default=8)    # mlp context window
p.add_argument('--embed', type=int, default=24)
p.add_argument('--width', type=int, default=64)    # transformer d_model / mlp hidden = 4*width
p.add_argument('--layers', type=int, default=2)
p.add_argument('--heads', type=int, default=4)
p.add_argument('--pretrain', type=int, default=300)
p.add_argument('--iters', type=int, default=10)
p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
torch.manual_seed(0); torch.set_num_threads(a.threads)

words = open(a.names).read().split()
chars = sorted(set(''.join(words))); V = len(chars) + 1  # 0 = start/end
stoi = {c: i + 1 for i, c in enumerate(chars)}
T = a.ctx

class MLP(nn.Module):
    def __init__(s):
        super().__init__(); s.emb = nn.Embedding(V, a.embed)
        s.body = nn.Sequential(nn.Linear(a.window * a.embed, 4 * a.width), nn.Tanh())
        s.pi = nn.Linear(4 * a.width, V); s.v = nn.Linear(4 * a.width, 1)
    def forward(s, idx):  # idx [B, t] -> logits [B, t, V], values [B, t]
        B, t = idx.shape
        pad = torch.cat([torch.zeros(B, a.window - 1, dtype=torch.long), idx], 1)
        win = pad.unfold(1, a.window, 1)  # [B, t, W]
        h = s.body(s.emb(win).reshape(B, t, -1))
        return s.pi(h), s.v(h).squeeze(-1)

class Block(nn.Module):
    def __init__(s):
        super().__init__(); d = a.width
        s.ln1 = nn.LayerNorm(d); s.attn = nn.MultiheadAttention(d, a.heads, batch_first=True)
        s.ln2 = nn.LayerNorm(d); s.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
    def forward(s, x, mask):
        h = s.ln1(x); x = x + s.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + s.mlp(s.ln2(x))

class GPT(nn.Module):
    def __init__(s):
        super().__init__(); d = a.width
        s.tok = nn.Embedding(V, d); s.pos = nn.Embedding(T + 1, d)
        s.blocks = nn.ModuleList([Block() for _ in range(a.layers)]); s.ln = nn.LayerNorm(d)
        s.pi = nn.Linear(d, V); s.v = nn.Linear(d, 1)
    def forward(s, idx):
        B, t = idx.shape
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
        x = s.tok(idx) + s.pos(torch.arange(t))
        for b in s.blocks: x = b(x, mask)
        h = s.ln(x); return s.pi(h), s.v(h).squeeze(-1)

Net = MLP if a.arch == 'mlp' else GPT
pol = Net()
# brief supervised pretraining so that sample lengths look like names
opt = torch.optim.Adam(pol.parameters(), lr=3e-3)
enc = [[0] + [stoi[c] for c in w][:T - 1] + [0] for w in words]
for _ in range(a.pretrain):
    batch = [enc[i] for i in torch.randint(len(enc), (64,)).tolist()]
    L = max(map(len, batch)); x = torch.zeros(64, L, dtype=torch.long); m = torch.zeros(64, L)
    for i, e in enumerate(batch): x[i, :len(e)] = torch.tensor(e); m[i, :len(e) - 1] = 1
    logits, _ = pol(x[:, :-1]); loss = (F.cross_entropy(logits.reshape(-1, V), x[:, 1:].reshape(-1), reduction='none') * m[:, :-1].reshape(-1)).sum() / m.sum()
    opt.zero_grad(); loss.backward(); opt.step()
ref = Net(); ref.load_state_dict(pol.state_dict()); ref.requires_grad_(False)
opt = torch.optim.Adam(pol.parameters(), lr=3e-4, eps=1e-5)
beta, gamma, lam, clip = 0.05, 1.0, 0.95, 0.2

@torch.no_grad()
def rollout():
    B = a.batch; seq = torch.zeros(B, 1, dtype=torch.long); done = torch.zeros(B, dtype=torch.bool)
    for _ in range(T - 1):  # no KV cache: recompute (what a plain PyTorch user writes)
        logits, _ = pol(seq); nxt = torch.multinomial(F.softmax(logits[:, -1], -1), 1).squeeze(1)
        nxt = torch.where(done, torch.zeros_like(nxt), nxt); seq = torch.cat([seq, nxt[:, None]], 1)
        done |= nxt == 0
        if done.all(): break
    return seq

def logp_of(net, seq):
    logits, values = net(seq[:, :-1])
    lp = torch.log_softmax(logits, -1)
    return lp.gather(-1, seq[:, 1:, None]).squeeze(-1), values, lp

times = []
for it in range(a.iters):
    t0 = time.perf_counter()
    seq = rollout(); t1 = time.perf_counter()
    tgt = seq[:, 1:]
    mask = torch.ones_like(tgt, dtype=torch.float)
    ended = (tgt == 0).float().cumsum(1)
    mask = ((ended - (tgt == 0).float()) == 0).float()  # up to and including the end token
    lengths = mask.sum(1)
    score = lengths - 1  # reward: name length
    t2 = time.perf_counter()
    with torch.no_grad():
        old_lp, old_v, _ = logp_of(pol, seq); ref_lp, _, _ = logp_of(ref, seq)
        rew = -beta * (old_lp - ref_lp) * mask
        last = (lengths - 1).long(); rew[torch.arange(a.batch), last] += score
        adv = torch.zeros_like(rew); g = torch.zeros(a.batch); Tn = rew.shape[1]
        for t in reversed(range(Tn)):
            nv = old_v[:, t + 1] * mask[:, t + 1] if t + 1 < Tn else torch.zeros(a.batch)
            delta = rew[:, t] + gamma * nv - old_v[:, t]
            g = (delta + gamma * lam * g) * mask[:, t]; adv[:, t] = g
        ret = adv + old_v
        mean = (adv * mask).sum() / mask.sum(); std = (((adv - mean) ** 2 * mask).sum() / mask.sum()).sqrt()
        adv = (adv - mean) / (std + 1e-8)
    for _ in range(a.epochs):
        perm = torch.randperm(a.batch)
        for s in range(0, a.batch, a.minibatch):
            i = perm[s:s + a.minibatch]; m = mask[i]
            lp, v, lpall = logp_of(pol, seq[i])
            ratio = torch.exp(lp - old_lp[i])
            pg = torch.max(-adv[i] * ratio, -adv[i] * ratio.clamp(1 - clip, 1 + clip))
            vc = old_v[i] + (v - old_v[i]).clamp(-clip, clip)
            vl = 0.5 * torch.max((v - ret[i]) ** 2, (vc - ret[i]) ** 2)
            ent = -(lpall.exp() * lpall).sum(-1)
            loss = ((pg + 0.1 * vl - 0.0 * ent) * m).sum() / m.sum()
            opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(pol.parameters(), 1.0); opt.step()
    t3 = time.perf_counter()
    times.append((t3 - t0, t1 - t0, t3 - t2, score.mean().item()))
med = lambda k: statistics.median(x[k] for x in times[1:])
print(json.dumps({'peer': f'pytorch-{torch.__version__}', 'arch': a.arch, 'batch': a.batch, 'params': sum(p.numel() for p in pol.parameters()),
                  'iter_s': round(med(0), 4), 'rollout_s': round(med(1), 4), 'update_s': round(med(2), 4),
                  'reward_first': round(times[0][3], 2), 'reward_last': round(times[-1][3], 2)}))
