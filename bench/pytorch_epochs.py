#!/usr/bin/python3
"""The PyTorch reference (../shared/anchors/pytorch_fashion.py) timed epoch by epoch.

Same data, model, optimizer, batch and sample order as the anchor, one process, --threads threads
(default 1); each epoch is timed on its own, so the first epoch and the steady state after it can be told apart.
Prints one JSON line: samples/s of every epoch, test accuracy, the torch version.

  python3 bench/pytorch_epochs.py --anchor ../shared/anchors/pytorch_fashion.py --model mlp \
      --batch 128 --epochs 3
"""
import argparse, importlib.util, json, time

p = argparse.ArgumentParser()
p.add_argument('--anchor', required=True); p.add_argument('--model', default='mlp')
p.add_argument('--batch', type=int, default=128); p.add_argument('--epochs', type=int, default=3)
p.add_argument('--limit', type=int, default=0); p.add_argument('--seed', type=int, default=0)
p.add_argument('--threads', type=int, default=1)
a = p.parse_args()

spec = importlib.util.spec_from_file_location('anchor', a.anchor)
anchor = importlib.util.module_from_spec(spec); spec.loader.exec_module(anchor)
torch, nn = anchor.torch, anchor.nn

torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
x, y = anchor.load('train'); xt, yt = anchor.load('t10k')
if a.limit: x, y = x[:a.limit], y[:a.limit]
m = anchor.model(a.model)
opt = (torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) if a.model == 'mlp'
       else torch.optim.Adam(m.parameters(), lr=1e-3))
lossf = nn.CrossEntropyLoss()
n = (x.shape[0] // a.batch) * a.batch
rates = []
for ep in range(a.epochs):
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(a.seed + ep))[:n]
    t0 = time.perf_counter()
    for s in range(0, n, a.batch):
        idx = perm[s: s + a.batch]
        opt.zero_grad(); lossf(m(x[idx]), y[idx]).backward(); opt.step()
    rates.append(round(n / (time.perf_counter() - t0)))
m.eval()
with torch.no_grad(): acc = (m(xt).argmax(1) == yt).float().mean().item()
print(json.dumps(dict(system=f'pytorch-{torch.__version__}', model=a.model, batch=a.batch,
                      epochs=a.epochs, epoch_samples_per_s=rates, test_acc=round(acc, 4))))
