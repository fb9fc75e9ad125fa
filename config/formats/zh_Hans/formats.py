"""How dates and numbers read on our pages: 2026年11月24日, as people write them.

Django's own zh_Hans formats say the same for display, with two slips we correct here:
MONTH_DAY_FORMAT pads the month ("09月5日", the admin's date hierarchy shows it next to
"2026年9月"), and its 年月日 input formats use %n/%j, which strptime reads as whitespace and
day-of-year, so "2026年9月5日" typed into a date box was refused. Input accepts the ISO form
(2026-11-24, what browsers, spreadsheets and our imports send), the slashed form the date
widget writes, and the Chinese form.
"""

DATE_FORMAT = "Y年n月j日"  # 2026年11月24日
TIME_FORMAT = "H:i"  # 20:45
DATETIME_FORMAT = "Y年n月j日 H:i"  # 2026年11月24日 20:45
YEAR_MONTH_FORMAT = "Y年n月"  # 2026年11月
MONTH_DAY_FORMAT = "n月j日"  # 11月24日
# Lists read the same as pages: a shorter form without the year would be ambiguous
# across a period that spans the new year.
SHORT_DATE_FORMAT = "Y年n月j日"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
FIRST_DAY_OF_WEEK = 1  # 星期一

# The first entry is what the admin's date widget writes into the box (calendar.js knows
# only %Y %m %d and separators): kept as Django's zh_Hans, 2026/11/24.
DATE_INPUT_FORMATS = [
    "%Y/%m/%d",  # 2026/11/24
    "%Y-%m-%d",  # 2026-11-24
    "%Y年%m月%d日",  # 2026年11月24日 (strptime's %m/%d accept one digit: 2026年9月5日)
]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"]
DATETIME_INPUT_FORMATS = [
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y年%m月%d日 %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
]

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ""
NUMBER_GROUPING = 4
