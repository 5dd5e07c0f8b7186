"""A local function shadows a module function of the same name."""


def process():
    return "global"


def main():
    def process():
        return "local"

    return process()


main()
process()
