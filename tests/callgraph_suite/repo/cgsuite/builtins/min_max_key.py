"""min and max call the key function."""


def score(pair):
    return pair[1]


def main():
    pairs = [("a", 3), ("b", 1)]
    best = max(pairs, key=score)
    worst = min(pairs, key=score)
    return best, worst


main()
