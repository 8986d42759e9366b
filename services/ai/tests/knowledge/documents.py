"""Documents the knowledge tests upload: the school's course page in Thai, and small helpers."""

from __future__ import annotations

COURSES_MD = """# คอร์สเรียนทำอาหารญี่ปุ่น

## คอร์สซูชิ

คอร์สซูชิ 3 วัน เรียนทำซูชิหน้าต่างๆ ข้าวปั้น และซาชิมิกับเชฟชาวญี่ปุ่น ราคา 12,900 บาท เริ่มเรียนทุกวันเสาร์

## คอร์สราเมง

คอร์สราเมง 2 วัน เรียนทำน้ำซุปทงคตสึ เส้นราเมงสด และไข่ต้มซีอิ๊ว ราคา 8,500 บาท

## Wagashi class

A one-day class on Japanese sweets: daifuku, dorayaki and seasonal nerikiri. 4,200 THB.
""".encode()

FAQ_JSON = """[
  {"q": "จอดรถได้ที่ไหน", "a": "จอดรถได้ที่ลานจอดรถของอาคาร ฟรี 3 ชั่วโมง"},
  {"q": "How do I pay?", "a": "Bank transfer or credit card; a 30% deposit books your seat."}
]""".encode()


def schedule_md(edition: str, rounds: int = 12) -> bytes:
    """A tempura timetable whose every section says which edition it belongs to."""
    sections = [
        f"## รอบที่ {i}\n\nคอร์สเทมปุระรอบที่ {i} เรียนวันอาทิตย์ ตาราง{edition} ห้องครัว {i}\n"
        for i in range(1, rounds + 1)
    ]
    return ("# ตารางคอร์สเทมปุระ\n\n" + "\n".join(sections)).encode()
