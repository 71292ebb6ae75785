#!/usr/bin/env python3
"""pytorch_gpu.py: the reference for scripts/gpu-check: the fashion_mlp and fashion_cnn models of
../shared/anchors/pytorch_fashion.py (same layers, optimizers, batch), eager PyTorch on one CUDA
device, one epoch after a short warm-up. Prints one JSON line with samples/s.

  python3 bench/pytorch_gpu.py --model mlp --batch 128 --data DIR
"""
import argparse, gzip, json, time
import numpy as np, torch, torch.nn as nn


def load(data, kind):
    with gzip.open(f'{data}/{kind}-images-idx3-ubyte.gz') as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    with gzip.open(f'{data}/{kind}-labels-idx1-ubyte.gz') as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def model(name):
    if name == 'mlp':
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                             nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='mlp'); p.add_argument('--batch', type=int, default=128)
    p.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    a = p.parse_args()
    dev = torch.device('cuda')
    x, y = load(a.data, 'train')
    m = model(a.model).to(dev)
    opt = (torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) if a.model == 'mlp'
           else torch.optim.Adam(m.parameters(), lr=1e-3))
    lossf = nn.CrossEntropyLoss()
    # Batches come from pinned host memory, as tfmath's do.
    x, y = x.pin_memory(), y.pin_memory()
    n = (x.shape[0] // a.batch) * a.batch

    def epoch(limit):
        perm = torch.randperm(x.shape[0])[:limit]
        for s in range(0, limit, a.batch):
            idx = perm[s:s + a.batch]
            xb = x[idx].to(dev, non_blocking=True); yb = y[idx].to(dev, non_blocking=True)
            opt.zero_grad(); lossf(m(xb), yb).backward(); opt.step()

    epoch(20 * a.batch)  # warm-up: cuDNN and cuBLAS choose their kernels
    torch.cuda.synchronize(); t0 = time.perf_counter()
    epoch(n)
    torch.cuda.synchronize(); dt = time.perf_counter() - t0
    print(json.dumps(dict(system=f'pytorch-{torch.__version__}', device=torch.cuda.get_device_name(0),
                          model=a.model, batch=a.batch, samples_per_s=round(n / dt))))


if __name__ == '__main__':
    main()
