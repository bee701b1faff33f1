import minigan


def backward(g, x, out):
    # d softplus/dx = sigmoid(x), a Tensor op of x: differentiable again
    return g * x.sigmoid()


def gradient_penalty(critic, real, fake, eps, lam=10.0):
    # minigan/gan/losses.py: gradient_penalty
    xhat = (eps * real + (1 - eps) * fake).detach()
    xhat.requires_grad = True
    (grad,) = minigan.grad(critic(xhat).sum(), xhat, create_graph=True)
    norms = (grad * grad).reshape(grad.shape[0], -1).sum(axis=1).sqrt()
    return lam * ((norms - 1.0) ** 2).mean()
