import numpy as np

# given by the template; declared here only so that this file reads alone
# (fill.py copies the functions and imports, never this line)
window_slices = None


def backward(g, x, out, kernel_size=2, stride=None, padding=0):
    # every pixel of a window gets g / k^2 from it; the padding's share is cut off
    k = kernel_size
    stride = k if stride is None else stride
    N, C, H, W = x.shape
    OH, OW = g.shape[2:]
    dxpad = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for i in range(k):
        for j in range(k):
            dxpad[window_slices(i, j, stride, OH, OW)] += g.data / (k * k)
    return dxpad[:, :, padding:padding + H, padding:padding + W]
