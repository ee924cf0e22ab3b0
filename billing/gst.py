"""GST on a clinic's bill, as pure functions over integer paise (no models, no database).

The one rounding rule: tax is computed per line and per head, each head rounded half up to the
paisa on its own. Intra-state, CGST and SGST are each the line's taxable value times half the
rate, rounded half up (so CGST always equals SGST); inter-state, IGST is the taxable value times
the full rate, rounded half up. The bill's tax is the sum of its lines' heads: never a rate
applied to the bill's total.

Prices on the catalogue and on a bill's lines are before GST (the taxable value of one unit);
GST is added on top. Discounts come off before tax: a line's taxable value is its quantity
times its unit price, less its own discount, less its share of the bill's discount. The bill's
discount is shared among the lines in proportion to their value after line discounts, largest
remainders first, so the shares add up to the discount exactly.

Rates are kept in basis points (hundredths of a percent): 500 is 5%, 1800 is 18%.

Which document a bill is (Rules 46, 46A and 49 of the CGST Rules):
- a clinic not registered for GST issues a plain bill with no tax on it;
- a registered clinic issues a bill of supply when every line is exempt, a tax invoice when
  every line is taxable, and one invoice-cum-bill of supply for a mix (patients are
  unregistered recipients, which is when Rule 46A allows it).

Place of supply: services to a patient are supplied where the patient's address on record is
(else where the clinic is); goods sold at the counter are supplied in the clinic's state.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_RATE_BP = 4000  # 40%: the highest GST rate
MAX_PAISE = 10**12  # Rs 1,000 crore: far above any clinic bill, far below integer limits


class DocType:
    BILL = "bill"
    BILL_OF_SUPPLY = "bill_of_supply"
    TAX_INVOICE = "tax_invoice"
    INVOICE_BILL_OF_SUPPLY = "invoice_bill_of_supply"
    CREDIT_NOTE = "credit_note"

    LABELS = {
        BILL: "Bill",
        BILL_OF_SUPPLY: "Bill of supply",
        TAX_INVOICE: "Tax invoice",
        INVOICE_BILL_OF_SUPPLY: "Invoice-cum-bill of supply",
        CREDIT_NOTE: "Credit note",
    }
    # The numbering series of each document: separate series per kind of document.
    SERIES = {
        BILL: "BIL",
        BILL_OF_SUPPLY: "BOS",
        TAX_INVOICE: "INV",
        INVOICE_BILL_OF_SUPPLY: "INV",
        CREDIT_NOTE: "CN",
    }


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for numerator >= 0 and denominator > 0."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class LineIn:
    """One line as entered: `unit_price_paise` before tax, `discount_paise` off the line."""

    unit_price_paise: int
    quantity: int = 1
    discount_paise: int = 0
    taxable: bool = False
    rate_bp: int = 0
    is_goods: bool = False


@dataclass(frozen=True)
class LineTax:
    gross_paise: int
    line_discount_paise: int
    bill_discount_paise: int
    taxable_value_paise: int  # after both discounts: what tax is charged on (or the exempt value)
    taxable: bool  # tax was charged on this line
    rate_bp: int
    inter_state: bool
    cgst_paise: int
    sgst_paise: int
    igst_paise: int

    @property
    def tax_paise(self) -> int:
        return self.cgst_paise + self.sgst_paise + self.igst_paise

    @property
    def total_paise(self) -> int:
        return self.taxable_value_paise + self.tax_paise


@dataclass(frozen=True)
class BillTax:
    lines: list[LineTax]
    doc_type: str

    @property
    def gross_paise(self) -> int:
        return sum(line.gross_paise for line in self.lines)

    @property
    def discount_paise(self) -> int:
        return sum(line.line_discount_paise + line.bill_discount_paise for line in self.lines)

    @property
    def taxable_value_paise(self) -> int:
        return sum(line.taxable_value_paise for line in self.lines if line.taxable)

    @property
    def exempt_value_paise(self) -> int:
        return sum(line.taxable_value_paise for line in self.lines if not line.taxable)

    @property
    def cgst_paise(self) -> int:
        return sum(line.cgst_paise for line in self.lines)

    @property
    def sgst_paise(self) -> int:
        return sum(line.sgst_paise for line in self.lines)

    @property
    def igst_paise(self) -> int:
        return sum(line.igst_paise for line in self.lines)

    @property
    def total_paise(self) -> int:
        return sum(line.total_paise for line in self.lines)


class GstInputError(ValueError):
    """A line or discount that cannot be billed; the message is safe to show."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def document_type(*, registered: bool, taxable: bool, exempt: bool) -> str:
    """Which document a bill is: see the module's docstring."""
    if not registered:
        return DocType.BILL
    if taxable and exempt:
        return DocType.INVOICE_BILL_OF_SUPPLY
    if taxable:
        return DocType.TAX_INVOICE
    return DocType.BILL_OF_SUPPLY


def head_split(
    taxable_value_paise: int, rate_bp: int, *, inter_state: bool
) -> tuple[int, int, int]:
    """(CGST, SGST, IGST) on a taxable value, each rounded half up on its own."""
    if inter_state:
        return 0, 0, round_half_up(taxable_value_paise * rate_bp, 10000)
    half = round_half_up(taxable_value_paise * rate_bp, 20000)
    return half, half, 0


def share_discount(discount_paise: int, values: list[int]) -> list[int]:
    """Split a bill's discount among lines in proportion to `values`, largest remainders first,
    so the shares add up to the discount and no share is above its line's value."""
    total = sum(values)
    if discount_paise == 0 or total == 0:
        return [0] * len(values)
    shares = [discount_paise * v // total for v in values]
    remainders = sorted(
        range(len(values)), key=lambda i: (-(discount_paise * values[i] % total), i)
    )
    left = discount_paise - sum(shares)
    for i in remainders:
        if left == 0:
            break
        if shares[i] < values[i]:
            shares[i] += 1
            left -= 1
    return shares


def _check_line(index: int, line: LineIn) -> None:
    prefix = f"lines.{index}."
    if not isinstance(line.unit_price_paise, int) or isinstance(line.unit_price_paise, bool):
        raise GstInputError("Give the price in whole paise.", field=prefix + "unit_price_paise")
    if not 0 <= line.unit_price_paise <= MAX_PAISE:
        raise GstInputError("The price cannot be negative.", field=prefix + "unit_price_paise")
    if not isinstance(line.quantity, int) or not 1 <= line.quantity <= 100000:
        raise GstInputError("The quantity is a whole number from 1.", field=prefix + "quantity")
    if not isinstance(line.discount_paise, int) or line.discount_paise < 0:
        raise GstInputError(
            "The discount is a whole number of paise, 0 or more.", field=prefix + "discount_paise"
        )
    if line.discount_paise > line.unit_price_paise * line.quantity:
        raise GstInputError(
            "The discount cannot be more than the line's price.", field=prefix + "discount_paise"
        )
    if line.taxable and not 0 <= line.rate_bp <= MAX_RATE_BP:
        raise GstInputError("The GST rate must be from 0% to 40%.", field=prefix + "rate_bp")


def bill_tax(
    lines: list[LineIn],
    *,
    registered: bool,
    clinic_state: str,
    patient_state: str = "",
    bill_discount_paise: int = 0,
) -> BillTax:
    """The bill's lines with their taxable values and tax heads, and the document it is.

    An unregistered clinic charges no tax on any line (it may not collect GST); its lines are
    all shown as not taxed.
    """
    for index, line in enumerate(lines):
        _check_line(index, line)
    nets = [line.unit_price_paise * line.quantity - line.discount_paise for line in lines]
    if not isinstance(bill_discount_paise, int) or bill_discount_paise < 0:
        raise GstInputError(
            "The discount is a whole number of paise, 0 or more.", field="discount_paise"
        )
    if bill_discount_paise > sum(nets):
        raise GstInputError(
            "The discount cannot be more than the bill's total.", field="discount_paise"
        )
    shares = share_discount(bill_discount_paise, nets)
    service_state = patient_state or clinic_state
    out = []
    for line, net, share in zip(lines, nets, shares, strict=True):
        value = net - share
        taxed = registered and line.taxable
        inter = (clinic_state if line.is_goods else service_state) != clinic_state
        cgst, sgst, igst = (
            head_split(value, line.rate_bp, inter_state=inter) if taxed else (0, 0, 0)
        )
        out.append(
            LineTax(
                gross_paise=line.unit_price_paise * line.quantity,
                line_discount_paise=line.discount_paise,
                bill_discount_paise=share,
                taxable_value_paise=value,
                taxable=taxed,
                rate_bp=line.rate_bp if taxed else 0,
                inter_state=inter and taxed,
                cgst_paise=cgst,
                sgst_paise=sgst,
                igst_paise=igst,
            )
        )
    doc = document_type(
        registered=registered,
        taxable=any(line.taxable for line in out),
        exempt=any(not line.taxable for line in out),
    )
    return BillTax(lines=out, doc_type=doc)


def financial_year(day) -> int:
    """The year a financial year (1 April to 31 March) starts in."""
    return day.year if day.month >= 4 else day.year - 1


def document_number(series: str, fy_start: int, sequence: int) -> str:
    """`INV/2627/000123`: series, financial year (2026-27 as 2627) and a six-digit sequence;
    at most 16 characters of letters, digits, `/` and `-` (Rule 46(b))."""
    number = f"{series}/{fy_start % 100:02d}{(fy_start + 1) % 100:02d}/{sequence:06d}"
    if len(number) > 16:
        raise OverflowError("The document number would be longer than 16 characters.")
    return number


def rate_label(rate_bp: int) -> str:
    """1800 -> "18%", 250 -> "2.5%"."""
    whole, part = divmod(rate_bp, 100)
    return f"{whole}%" if not part else f"{whole}.{part:02d}".rstrip("0") + "%"


def rupees(paise: int) -> str:
    """Paise as rupees with two decimals, for a UPI link's `am`: 123456 -> "1234.56"."""
    sign = "-" if paise < 0 else ""
    whole, part = divmod(abs(paise), 100)
    return f"{sign}{whole}.{part:02d}"
