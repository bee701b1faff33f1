# given by the template; declared here only so that this file reads alone
# (fill.py copies the functions and imports, never this line)
im2col = col2im = None


def backward(g, x, w, b, out, stride=1, padding=0):
    # Y_mat = W_mat @ cols + b: dW_mat = G_mat cols^T, dcols = W_mat^T G_mat, dx = col2im(dcols)
    O, C, kh, kw = w.shape
    cols = im2col(x.data, kh, kw, stride, padding)
    g_mat = g.data.transpose(1, 0, 2, 3).reshape(O, -1)
    dw = (g_mat @ cols.T).reshape(w.shape)
    dx = col2im(w.data.reshape(O, -1).T @ g_mat, x.shape, kh, kw, stride, padding)
    return dx, dw, g_mat.sum(axis=1)
