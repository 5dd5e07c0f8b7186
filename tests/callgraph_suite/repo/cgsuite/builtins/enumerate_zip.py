"""enumerate over zip in a for loop."""


def main():
    names = ["a", "b"]
    sizes = [1, 2]
    total = 0
    for index, (_name, size) in enumerate(zip(names, sizes)):
        total += index + size
    return total


main()
