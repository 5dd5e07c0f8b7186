"""CJK and emoji on the same lines as definitions and calls. 日本語 🎉"""

from __future__ import annotations


def 挨拶(名前: str, 記号: str = "🎉") -> str:  # 挨拶する 👋
    """Greets 名前 in Japanese 🗾."""
    return f"こんにちは、{名前}さん {記号}"


class 計算機:  # 計算 🧮
    """A calculator with a CJK name."""

    def 足す(self, 左: int, 右: int) -> int:  # 足し算 ➕
        return 左 + 右

    def 合計(self, 数字: list[int]) -> int:
        結果 = 0
        for 数 in 数字:
            結果 = self.足す(結果, 数)  # 🔁 累積
        return 結果


def main() -> str:
    結果 = 挨拶("世界 🌏", 記号="✨"); 機械 = 計算機(); 合計 = 機械.合計([1, 2, 3])  # 🧪 三つ
    return f"{結果} {合計} 🎌"
