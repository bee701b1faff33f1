def backward(g, logits, out):
    # d/da -log sigmoid(a) = -(1 - sigmoid(a)) = -sigmoid(-a), and 1/n for the mean
    return -g * (-logits).sigmoid() * (1.0 / logits.size)
