"""Methods of a builtin list."""


def main():
    stack = []
    stack.append(1)
    stack.append(2)
    return stack.pop()


main()
