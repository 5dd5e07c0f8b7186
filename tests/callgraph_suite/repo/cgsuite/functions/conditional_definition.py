"""Two definitions of one name in the branches of an if: the one defined is called."""

DEBUG = False

if DEBUG:

    def log(message):
        return "debug: " + message

else:

    def log(message):
        return message


log("x")
