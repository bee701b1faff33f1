import minigan.functional as F

# given by the template; declared here only so that this file reads alone
# (fill.py copies the functions and imports, never this line)
im2col = None


def backward(g, x, w, b, out, stride=1, padding=0):
    # dx = conv2d(g, w) (C applied to g); dW = x_mat im2col(g)^T (minigan/ops/conv.py)
    Cin, Cout, kh, kw = w.shape
    dx = F.conv2d(g, w, stride=stride, padding=padding)
    x_mat = x.data.transpose(1, 0, 2, 3).reshape(Cin, -1)
    dw = (x_mat @ im2col(g.data, kh, kw, stride, padding).T).reshape(w.shape)
    return dx, dw, g.sum(axis=(0, 2, 3))
