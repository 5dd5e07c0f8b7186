"""sorted calls the key function given by keyword."""


def by_length(word):
    return len(word)


def main():
    words = ["pear", "fig", "banana"]
    return sorted(words, key=by_length)


main()
