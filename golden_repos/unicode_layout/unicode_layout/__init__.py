"""Unicode identifiers, strings and every line layout. 文字 ✨"""
