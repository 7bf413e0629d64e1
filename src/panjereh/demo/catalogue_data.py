"""What the demonstration agencies offer: inquiry topics, inquiry verbs and citizen actions.

Every template-generated inquiry service is one topic × one verb of the topic's kind
(«استعلام وضعیت گواهینامه رانندگی» / "Driving licence status inquiry"); every citizen service
is one topic × one citizen action («صدور المثنی گواهینامه رانندگی»).  Pure tables, no logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from panjereh.registry.model import SubjectKind


class Kind(StrEnum):
    """What a topic is; it decides which inquiries and citizen actions make sense."""

    DOCUMENT = "document"  # a licence, card, certificate or deed
    RECORD = "record"  # records kept about a person or a firm
    CASE = "case"  # an application, a claim, a court case
    BALANCE = "balance"  # debts, bills, payments
    STATUS = "status"  # one condition of a person: alive, married, insured
    REFERENCE = "reference"  # reference data: lists and codes, about nobody


@dataclass(frozen=True, slots=True)
class Phrase:
    """An inquiry verb or a citizen action; ``{x}`` is the topic's noun phrase."""

    slug: str
    fa: str
    en: str
    renewable_only: bool = False


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    fa: str
    en: str
    kind: Kind
    subject: SubjectKind = SubjectKind.NATIONAL_CODE
    sensitive: bool = False  # health, criminal and welfare data
    renewable: bool = True  # documents only: can it be renewed?
    system: str | None = None  # provider system, when not the agency's first
    category: str | None = None  # citizen-service category, when not the agency's


# The first verb of each kind is the topic's main inquiry: citizen services call it.
VERBS: dict[Kind, tuple[Phrase, ...]] = {
    Kind.DOCUMENT: (
        Phrase("status", "استعلام وضعیت {x}", "{x} status inquiry"),
        Phrase("validity", "استعلام اعتبار {x}", "{x} validity inquiry"),
        Phrase("details", "استعلام مشخصات {x}", "{x} details inquiry"),
        Phrase("authenticity", "استعلام اصالت {x}", "{x} authenticity inquiry"),
        Phrase("history", "استعلام سوابق صدور {x}", "{x} issuance history inquiry"),
        Phrase("revocation", "استعلام تعلیق یا ابطال {x}", "{x} suspension or revocation inquiry"),
        Phrase("duplicate", "استعلام صدور المثنی {x}", "{x} duplicate issuance inquiry"),
    ),
    Kind.RECORD: (
        Phrase("summary", "استعلام خلاصه {x}", "{x} summary inquiry"),
        Phrase("details", "استعلام جزئیات {x}", "{x} details inquiry"),
        Phrase("by-year", "استعلام {x} به تفکیک سال", "{x} by year inquiry"),
        Phrase("latest", "استعلام آخرین تغییرات {x}", "{x} latest changes inquiry"),
        Phrase("verification", "استعلام صحت {x}", "{x} verification inquiry"),
    ),
    Kind.CASE: (
        Phrase("status", "استعلام وضعیت {x}", "{x} status inquiry"),
        Phrase("stage", "استعلام مرحله رسیدگی {x}", "{x} processing stage inquiry"),
        Phrase("outcome", "استعلام نتیجه {x}", "{x} outcome inquiry"),
        Phrase("schedule", "استعلام زمان‌بندی {x}", "{x} schedule inquiry"),
    ),
    Kind.BALANCE: (
        Phrase("balance", "استعلام مانده {x}", "{x} balance inquiry"),
        Phrase("payments", "استعلام پرداخت‌های {x}", "{x} payments inquiry"),
        Phrase("settlement", "استعلام تسویه {x}", "{x} settlement inquiry"),
        Phrase("instalments", "استعلام اقساط {x}", "{x} instalments inquiry"),
    ),
    Kind.STATUS: (
        Phrase("status", "استعلام وضعیت {x}", "{x} status inquiry"),
        Phrase("history", "استعلام سوابق {x}", "{x} history inquiry"),
        Phrase("certificate", "استعلام گواهی {x}", "{x} certificate inquiry"),
        Phrase("changes", "استعلام تغییرات {x}", "{x} changes inquiry"),
    ),
    Kind.REFERENCE: (
        Phrase("list", "استعلام فهرست {x}", "{x} list inquiry"),
        Phrase("lookup", "استعلام اطلاعات {x}", "{x} lookup"),
        Phrase("changes", "استعلام تغییرات {x}", "{x} changes inquiry"),
    ),
}

ACTIONS: dict[Kind, tuple[Phrase, ...]] = {
    Kind.DOCUMENT: (
        Phrase("issue", "صدور {x}", "{x} issuance"),
        Phrase("renew", "تمدید {x}", "{x} renewal", renewable_only=True),
        Phrase("duplicate", "صدور المثنی {x}", "duplicate {x}"),
    ),
    Kind.RECORD: (
        Phrase("certificate", "دریافت گواهی {x}", "{x} certificate"),
        Phrase("correction", "درخواست اصلاح {x}", "{x} correction request"),
    ),
    Kind.CASE: (
        Phrase("file", "ثبت درخواست {x}", "{x} application"),
        Phrase("follow-up", "پیگیری {x}", "{x} follow-up"),
    ),
    Kind.BALANCE: (
        Phrase("pay", "پرداخت {x}", "{x} payment"),
        Phrase("instalments", "درخواست تقسیط {x}", "{x} instalment plan request"),
    ),
    Kind.STATUS: (
        Phrase("certificate", "دریافت گواهی {x}", "{x} certificate"),
        Phrase("view", "مشاهده وضعیت {x}", "{x} status view"),
    ),
    Kind.REFERENCE: (Phrase("view", "مشاهده {x}", "{x} lookup"),),
}

D, R, C, B, S, F = (
    Kind.DOCUMENT,
    Kind.RECORD,
    Kind.CASE,
    Kind.BALANCE,
    Kind.STATUS,
    Kind.REFERENCE,
)
NC = SubjectKind.NATIONAL_CODE
LID = SubjectKind.LEGAL_ID
NOBODY = SubjectKind.NONE

TOPICS: dict[str, tuple[Topic, ...]] = {
    "civil-registry": (
        Topic("birth-certificate", "شناسنامه", "birth certificate", D),
        Topic("national-card", "کارت هوشمند ملی", "smart national ID card", D),
        Topic("death-certificate", "گواهی فوت", "death certificate", D, renewable=False),
        Topic("life", "حیات", "life", S),
        Topic("marital", "تأهل", "marital", S),
        Topic("citizenship", "تابعیت", "citizenship", S),
        Topic("birth-registration", "ثبت ولادت", "birth registration", C),
        Topic("death-registration", "ثبت وفات", "death registration", C),
        Topic("name-change", "تغییر نام", "name change", C),
        Topic("national-code-issue", "صدور کد ملی", "national code issuance", C),
        Topic("certificate-replacement", "تعویض شناسنامه", "birth certificate replacement", C),
        Topic("card-application", "درخواست کارت ملی", "national card application", C),
        Topic("divorce-registration", "ثبت طلاق", "divorce registration", C),
        Topic("household", "اطلاعات خانوار", "household information", R),
        Topic("parents", "اطلاعات والدین", "parent information", R),
        Topic("children", "اطلاعات فرزندان", "children information", R),
        Topic("spouse", "اطلاعات همسر", "spouse information", R),
        Topic("vital-statistics", "آمار ولادت و وفات", "birth and death statistics", F, NOBODY),
        Topic("birthplace-codes", "کدهای محل تولد", "place-of-birth codes", F, NOBODY),
    ),
    "social-security": (
        Topic("insurance-record", "سوابق بیمه‌ای", "insurance record", R),
        Topic("workshop", "اطلاعات کارگاه", "workshop record", R, LID),
        Topic("employee-list", "لیست بیمه کارکنان", "employee insurance list", R, LID),
        Topic("insured", "بیمه‌شدگی", "insurance coverage", S),
        Topic("treatment-entitlement", "استحقاق درمان", "medical entitlement", S),
        Topic("pension-award", "حکم مستمری", "pension award", D, renewable=False),
        Topic("employer-clearance", "مفاصاحساب کارفرما", "employer clearance certificate", D, LID),
        Topic(
            "contractor-clearance",
            "مفاصاحساب پیمانکاری",
            "contractor clearance certificate",
            D,
            LID,
        ),
        Topic("retirement", "بازنشستگی", "retirement", C),
        Topic(
            "unemployment-benefit", "مقرری بیمه بیکاری", "unemployment benefit", C, sensitive=True
        ),
        Topic("disability-pension", "مستمری ازکارافتادگی", "disability pension", C, sensitive=True),
        Topic("survivors-pension", "مستمری بازماندگان", "survivors' pension", C),
        Topic("maternity-allowance", "غرامت بارداری", "maternity allowance", C, sensitive=True),
        Topic(
            "sick-leave-allowance",
            "غرامت دستمزد ایام بیماری",
            "sick-leave allowance",
            C,
            sensitive=True,
        ),
        Topic("employer-debt", "بدهی کارفرما", "employer debt", B, LID),
        Topic("voluntary-contributions", "حق بیمه اختیاری", "voluntary contributions", B),
        Topic("branches", "شعب تأمین اجتماعی", "social security branches", F, NOBODY),
    ),
    "judiciary": (
        Topic("criminal-record", "سابقه کیفری", "criminal record", R, sensitive=True),
        Topic("court-judgment", "رأی دادگاه", "court judgment", R),
        Topic("judicial-notice", "ابلاغیه قضایی", "judicial notice", R),
        Topic("travel-ban", "ممنوع‌الخروجی", "travel ban", S, sensitive=True),
        Topic("financial-conviction", "محکومیت مالی", "financial conviction", S, sensitive=True),
        Topic("sana-registration", "ثبت‌نام ثنا", "Sana e-notice registration", S),
        Topic("imprisonment", "حبس", "imprisonment", S, sensitive=True),
        Topic("bail-order", "قرار وثیقه", "bail order", D, renewable=False),
        Topic("expert-licence", "پروانه کارشناسی رسمی دادگستری", "official expert licence", D),
        Topic("attorney-licence", "پروانه وکالت", "attorney licence", D),
        Topic("court-case", "پرونده قضایی", "court case", C),
        Topic("complaint", "شکوائیه", "criminal complaint", C),
        Topic("petition", "دادخواست", "petition", C),
        Topic("enforcement", "اجرای احکام", "judgment enforcement", C),
        Topic("dispute-council", "پرونده شورای حل اختلاف", "dispute-resolution council case", C),
        Topic("judicial-fine", "جزای نقدی", "judicial fine", B, sensitive=True),
        Topic("court-branches", "شعب دادگاه‌ها", "court branches", F, NOBODY),
        Topic("offence-titles", "عناوین مجرمانه", "offence titles", F, NOBODY),
    ),
    "tax-administration": (
        Topic("tax-file", "پرونده مالیاتی", "tax file", R, LID),
        Topic("e-invoice", "صورتحساب‌های الکترونیکی", "e-invoice", R, LID),
        Topic("pos-transactions", "تراکنش‌های پایانه فروش", "point-of-sale transactions", R),
        Topic("economic-code", "کد اقتصادی", "economic code", D, LID),
        Topic("tax-clearance", "مفاصاحساب مالیاتی", "tax clearance certificate", D, LID),
        Topic(
            "assessment-notice",
            "برگ تشخیص مالیات",
            "tax assessment notice",
            D,
            LID,
            renewable=False,
        ),
        Topic("tax-exemption", "معافیت مالیاتی", "tax exemption", D, LID),
        Topic("tax-debt", "بدهی مالیاتی", "tax debt", B, LID),
        Topic("payroll-tax", "مالیات حقوق", "payroll tax", B, LID),
        Topic("property-transfer-tax", "مالیات نقل و انتقال املاک", "property transfer tax", B),
        Topic("inheritance-tax", "مالیات بر ارث", "inheritance tax", B),
        Topic("luxury-vehicle-tax", "مالیات خودروهای لوکس", "luxury vehicle tax", B),
        Topic("vat-registration", "ثبت‌نام ارزش افزوده", "VAT registration", S, LID),
        Topic("income-tax-return", "اظهارنامه مالیات بر درآمد", "income tax return", C),
        Topic("corporate-tax-return", "اظهارنامه مالیات عملکرد", "corporate tax return", C, LID),
        Topic("vat-return", "اظهارنامه ارزش افزوده", "VAT return", C, LID),
        Topic("tax-objection", "اعتراض مالیاتی", "tax objection", C, LID),
        Topic("tax-offices", "ادارات امور مالیاتی", "tax offices", F, NOBODY),
        Topic("activity-codes", "کدهای فعالیت اقتصادی", "economic activity codes", F, NOBODY),
    ),
    "traffic-police": (
        Topic("driving-licence", "گواهینامه رانندگی", "driving licence", D),
        Topic("vehicle-ownership", "سند مالکیت خودرو", "vehicle ownership document", D),
        Topic("number-plate", "پلاک خودرو", "number plate", D),
        Topic("vehicle-card", "کارت خودرو", "vehicle card", D),
        Topic("inspection-certificate", "برگ معاینه فنی", "technical inspection certificate", D),
        Topic("motorcycle-plate", "پلاک موتورسیکلت", "motorcycle plate", D),
        Topic("special-permit", "مجوز تردد ویژه", "special traffic permit", D, LID),
        Topic("traffic-fines", "خلافی خودرو", "traffic fines", B),
        Topic("penalty-points", "نمره منفی", "penalty points", S),
        Topic("impoundment", "توقیف خودرو", "vehicle impoundment", S),
        Topic("licence-suspension", "ضبط گواهینامه", "licence suspension", S),
        Topic("vehicle-theft", "سرقت خودرو", "vehicle theft", S),
        Topic("accident-report", "گزارش تصادف", "accident report", C),
        Topic("vehicle-transfer", "نقل و انتقال خودرو", "vehicle transfer", C),
        Topic("driving-test", "آزمون رانندگی", "driving test", C),
        Topic(
            "vehicle-models", "کدهای نوع و سیستم خودرو", "vehicle make and model codes", F, NOBODY
        ),
        Topic("offence-codes", "کدهای تخلفات رانندگی", "traffic offence codes", F, NOBODY),
    ),
    "education-ministry": (
        Topic("student-record", "پرونده تحصیلی دانش‌آموز", "student academic record", R),
        Topic("report-card", "کارنامه تحصیلی", "report card", R),
        Topic("teacher-service", "سوابق خدمت فرهنگیان", "teacher service record", R),
        Topic("diploma", "مدرک دیپلم", "high-school diploma", D, renewable=False),
        Topic("school-licence", "پروانه تأسیس مدرسه غیردولتی", "private school licence", D, LID),
        Topic(
            "literacy-certificate", "گواهی سوادآموزی", "literacy certificate", D, renewable=False
        ),
        Topic(
            "teaching-qualification",
            "گواهی صلاحیت حرفه‌ای معلمی",
            "teaching qualification certificate",
            D,
        ),
        Topic(
            "completion-certificate",
            "گواهی پایان تحصیلات",
            "certificate of completed studies",
            D,
            renewable=False,
        ),
        Topic("school-enrolment", "ثبت‌نام مدرسه", "school enrolment", S),
        Topic(
            "entry-health-screening",
            "سنجش سلامت نوآموزان",
            "school-entry health screening",
            S,
            sensitive=True,
        ),
        Topic("special-education", "آموزش استثنایی", "special education", S, sensitive=True),
        Topic("final-exams", "امتحانات نهایی", "final examinations", C),
        Topic("student-transfer", "انتقال دانش‌آموز", "student transfer", C),
        Topic("private-tuition", "شهریه مدارس غیردولتی", "private school tuition", B),
        Topic("school-codes", "کدهای مدارس", "school codes", F, NOBODY),
        Topic("textbooks", "کتاب‌های درسی", "textbooks", F, NOBODY),
    ),
    "science-ministry": (
        Topic("degree", "مدرک تحصیلی دانشگاهی", "university degree", D, renewable=False),
        Topic("institution-licence", "مجوز مؤسسه آموزش عالی", "higher-education licence", D, LID),
        Topic("study-abroad-permit", "مجوز تحصیل در خارج", "study-abroad permit", D),
        Topic(
            "knowledge-based-certificate",
            "تأییدیه شرکت دانش‌بنیان",
            "knowledge-based company certificate",
            D,
            LID,
        ),
        Topic("student", "دانشجویی", "student", S),
        Topic("free-education-obligation", "تعهد آموزش رایگان", "free-education obligation", S),
        Topic("dormitory", "خوابگاه دانشجویی", "student housing", S),
        Topic("transcript", "ریزنمرات", "transcript", R),
        Topic("faculty-record", "سوابق هیئت علمی", "faculty member record", R),
        Topic("foreign-degree-evaluation", "ارزشیابی مدرک خارجی", "foreign degree evaluation", C),
        Topic("scholarship", "بورس تحصیلی", "scholarship", C),
        Topic("research-project", "طرح پژوهشی", "research project", C, LID),
        Topic("graduation-clearance", "فراغت از تحصیل", "graduation clearance", C),
        Topic(
            "disciplinary-case",
            "پرونده انضباطی دانشجو",
            "student disciplinary case",
            C,
            sensitive=True,
        ),
        Topic("student-loan", "وام دانشجویی", "student loan", B),
        Topic("university-codes", "کدهای دانشگاه‌ها", "university codes", F, NOBODY),
        Topic("fields-of-study", "رشته‌های تحصیلی", "fields of study", F, NOBODY),
    ),
    "health-ministry": (
        Topic("practice-licence", "پروانه مطب", "medical practice licence", D),
        Topic("pharmacy-licence", "پروانه داروخانه", "pharmacy licence", D, LID),
        Topic("medicine-registration", "پروانه ثبت دارو", "medicine registration", D, LID),
        Topic("food-licence", "پروانه بهداشتی مواد غذایی", "food health licence", D, LID),
        Topic("health-card", "کارت بهداشت", "health card", D),
        Topic(
            "hospital-licence", "پروانه بهره‌برداری بیمارستان", "hospital operating licence", D, LID
        ),
        Topic("device-licence", "مجوز تجهیزات پزشکی", "medical device licence", D, LID),
        Topic("vaccination", "سوابق واکسیناسیون", "vaccination record", R, sensitive=True),
        Topic(
            "health-record", "پرونده الکترونیک سلامت", "electronic health record", R, sensitive=True
        ),
        Topic("e-prescription", "نسخه الکترونیک", "electronic prescription", C, sensitive=True),
        Topic("residency-exam", "آزمون دستیاری", "residency exam", C),
        Topic("special-disease", "بیماری خاص", "special disease", S, sensitive=True),
        Topic("organ-donation", "اهدای عضو", "organ donation", S, sensitive=True),
        Topic("health-centres", "مراکز بهداشتی درمانی", "health centres", F, NOBODY),
        Topic("formulary", "داروهای رسمی کشور", "national formulary", F, NOBODY),
    ),
    "health-insurance": (
        Topic("coverage", "پوشش بیمه سلامت", "health insurance coverage", S),
        Topic("rural-insurance", "بیمه روستاییان و عشایر", "rural and nomad insurance", S),
        Topic("family-physician", "پزشک خانواده", "family physician", S),
        Topic("premium", "حق سرانه بیمه سلامت", "health insurance premium", B),
        Topic("expense-claim", "هزینه درمان", "medical expense claim", C, sensitive=True),
        Topic("referral", "ارجاع پزشک خانواده", "family-physician referral", C, sensitive=True),
        Topic("provider-contract", "قرارداد مراکز درمانی", "care provider contract", D, LID),
        Topic("e-booklet", "دفترچه بیمه الکترونیک", "electronic insurance booklet", D),
        Topic("dependants", "افراد تحت تکفل", "dependants", R),
        Topic(
            "insured-prescriptions", "نسخه‌های بیمه‌ای", "insured prescriptions", R, sensitive=True
        ),
        Topic("tariffs", "تعرفه خدمات درمانی", "medical service tariffs", F, NOBODY),
        Topic("covered-medicines", "داروهای تحت پوشش", "covered medicines", F, NOBODY),
    ),
    "companies-registry": (
        Topic("company-registration", "ثبت شرکت", "company registration", D, LID, renewable=False),
        Topic(
            "institution-registration",
            "ثبت مؤسسه غیرتجاری",
            "non-commercial institution registration",
            D,
            LID,
            renewable=False,
        ),
        Topic("trademark", "علامت تجاری", "trademark", D, LID),
        Topic("property-deed", "سند مالکیت ملک", "property title deed", D, system="deeds"),
        Topic(
            "notarial-deed",
            "سند رسمی دفترخانه",
            "notarial deed",
            D,
            renewable=False,
            system="deeds",
        ),
        Topic("power-of-attorney", "وکالت‌نامه رسمی", "power of attorney", D, system="deeds"),
        Topic("board-members", "اعضای هیئت‌مدیره", "board of directors", R, LID),
        Topic("gazette-notices", "آگهی‌های روزنامه رسمی", "official gazette notices", R, LID),
        Topic("property-attachment", "بازداشت ملک", "property attachment", S, system="deeds"),
        Topic("notary-offices", "دفاتر اسناد رسمی", "notary offices", F, NOBODY),
    ),
    "welfare-organization": (
        Topic("disability-file", "پرونده توان‌خواهی", "disability record", R, sensitive=True),
        Topic("disability-card", "کارت معلولیت", "disability card", D, sensitive=True),
        Topic("care-centre-licence", "پروانه مراکز نگهداری", "care centre licence", D, LID),
        Topic("client-allowance", "مستمری مددجویان", "client allowance", B, sensitive=True),
        Topic(
            "rehabilitation",
            "خدمات توانبخشی",
            "rehabilitation services",
            C,
            sensitive=True,
            system="rehabilitation",
        ),
        Topic("adoption", "فرزندخواندگی", "adoption", C, sensitive=True),
        Topic(
            "client-housing",
            "مسکن مددجویان",
            "client housing support",
            C,
            sensitive=True,
            system="rehabilitation",
        ),
        Topic(
            "addiction-treatment",
            "درمان اعتیاد",
            "addiction treatment",
            S,
            sensitive=True,
            system="rehabilitation",
        ),
        Topic("welfare-centres", "مراکز بهزیستی", "welfare centres", F, NOBODY),
    ),
    "interior-ministry": (
        Topic("amayesh-card", "کارت آمایش اتباع", "foreign national residence card", D),
        Topic("ngo-licence", "پروانه سازمان مردم‌نهاد", "NGO licence", D, LID),
        Topic("party-licence", "پروانه حزب", "political party licence", D, LID),
        Topic(
            "candidate-vetting", "احراز صلاحیت داوطلبان انتخابات", "election candidate vetting", C
        ),
        Topic(
            "council-members", "اعضای شوراهای شهر و روستا", "city and village council members", R
        ),
        Topic("polling-stations", "شعب اخذ رأی", "polling stations", F, NOBODY),
        Topic("election-results", "نتایج انتخابات", "election results", F, NOBODY),
        Topic(
            "country-divisions",
            "تقسیمات کشوری",
            "administrative divisions",
            F,
            NOBODY,
            category="identity",
        ),
    ),
    "labour-ministry": (
        Topic("work-permit", "پروانه کار اتباع خارجی", "foreign worker permit", D),
        Topic("cooperative", "ثبت تعاونی", "cooperative registration", D, LID, renewable=False),
        Topic(
            "skills-certificate", "گواهینامه مهارت فنی و حرفه‌ای", "vocational skills certificate", D
        ),
        Topic("employment-contract", "قرارداد کار", "employment contract", R),
        Topic("job-seeker", "کارجویی", "job-seeker", S),
        Topic(
            "cash-subsidy",
            "یارانه نقدی",
            "cash subsidy",
            S,
            sensitive=True,
            category="social-welfare",
        ),
        Topic("labour-dispute", "دعوای کار", "labour dispute", C),
        Topic("minimum-wage", "حداقل دستمزد", "minimum wage", F, NOBODY),
    ),
    "economy-ministry": (
        Topic("customs-declaration", "اظهارنامه گمرکی", "customs declaration", C, LID),
        Topic("state-auction", "مزایده دولتی", "state auction", C, LID),
        Topic("foreign-investment", "مجوز سرمایه‌گذاری خارجی", "foreign investment licence", D, LID),
        Topic(
            "free-zone-licence", "مجوز فعالیت در مناطق آزاد", "free-zone operating licence", D, LID
        ),
        Topic("government-claims", "مطالبات از دولت", "claims on the government", B, LID),
        Topic("justice-shares", "سهام عدالت", "Justice Shares", R),
        Topic("customs-tariffs", "تعرفه‌های گمرکی", "customs tariffs", F, NOBODY),
        Topic("state-companies", "شرکت‌های دولتی", "state-owned companies", F, NOBODY),
    ),
    "ict-ministry": (
        Topic(
            "signature-certificate", "گواهی امضای الکترونیکی", "electronic signature certificate", D
        ),
        Topic("ict-business-licence", "مجوز کسب‌وکار فاوا", "ICT business licence", D, LID),
        Topic("data-centre-licence", "مجوز مرکز داده", "data-centre licence", D, LID),
        Topic(
            "postal-code-certificate",
            "گواهی کد پستی",
            "postal code certificate",
            D,
            renewable=False,
        ),
        Topic("postal-parcel", "مرسوله پستی", "postal parcel", C),
        Topic("postal-addresses", "نشانی‌های پستی", "postal addresses", F, NOBODY),
        Topic(
            "connected-agencies",
            "دستگاه‌های متصل به پنجره ملی",
            "agencies connected to the national window",
            F,
            NOBODY,
        ),
        Topic("ict-indicators", "شاخص‌های فاوا", "ICT indicators", F, NOBODY),
    ),
    "telecom-regulator": (
        Topic("sim-cards", "سیم‌کارت‌های به نام فرد", "SIM cards held", R),
        Topic("line-ownership", "مالکیت خط تلفن همراه", "mobile line ownership", S),
        Topic("phone-registry", "رجیستری تلفن همراه", "mobile phone registry", S),
        Topic("operator-licence", "پروانه اپراتور", "operator licence", D, LID),
        Topic("frequency-licence", "پروانه فرکانس رادیویی", "radio-frequency licence", D, LID),
        Topic("type-approval", "تأییدیه نوع تجهیزات", "equipment type approval", D, LID),
        Topic(
            "verified-channel",
            "کانال تأییدشده پیام‌رسان",
            "verified messenger channel",
            D,
            category="elections",
        ),
        Topic("licensed-operators", "اپراتورهای مجاز", "licensed operators", F, NOBODY),
    ),
    "agriculture-ministry": (
        Topic("farmer-card", "کارت کشاورزی", "farmer card", D),
        Topic(
            "farming-licence", "پروانه بهره‌برداری کشاورزی", "agricultural operating licence", D, LID
        ),
        Topic("veterinary-licence", "پروانه بهداشتی دامپزشکی", "veterinary health licence", D, LID),
        Topic("land-use-change", "تغییر کاربری اراضی کشاورزی", "farmland use change", C),
        Topic("livestock", "اطلاعات دام", "livestock record", R, system="livestock"),
        Topic("crop-insurance", "بیمه محصولات کشاورزی", "crop insurance", S, system="livestock"),
        Topic("fertiliser-quota", "سهمیه کود شیمیایی", "fertiliser quota", S),
        Topic("guaranteed-purchase", "خرید تضمینی محصولات", "guaranteed crop purchase", B),
        Topic("agricultural-products", "محصولات کشاورزی", "agricultural products", F, NOBODY),
    ),
    "cultural-heritage-ministry": (
        Topic(
            "travel-agency-licence", "پروانه دفتر خدمات مسافرتی", "travel agency licence", D, LID
        ),
        Topic("tour-guide-card", "کارت راهنمای گردشگری", "tour guide card", D),
        Topic("artisan-card", "کارت شناسایی صنعتگران", "artisan identity card", D),
        Topic("accommodation-grading", "درجه‌بندی تأسیسات اقامتی", "accommodation grading", D, LID),
        Topic("excavation-permit", "مجوز کاوش باستان‌شناسی", "archaeological excavation permit", D),
        Topic("heritage-register", "آثار ثبت‌شده ملی", "national heritage register", F, NOBODY),
        Topic("museums", "موزه‌ها", "museums", F, NOBODY),
    ),
    "oil-ministry": (
        Topic("fuel-card", "کارت سوخت", "fuel card", D),
        Topic("fuel-station-licence", "پروانه جایگاه سوخت", "fuel station licence", D, LID),
        Topic(
            "contractor-qualification",
            "صلاحیت پیمانکاران نفت",
            "oil contractor qualification",
            D,
            LID,
        ),
        Topic("fuel-quota", "سهمیه سوخت", "fuel quota", S),
        Topic("gas-subscription", "اشتراک گاز", "gas subscription", R, system="gas-subscribers"),
        Topic("gas-bill", "قبض گاز", "gas bill", B, system="gas-subscribers"),
        Topic("fuel-stations", "جایگاه‌های عرضه سوخت", "fuel stations", F, NOBODY),
    ),
    "energy-ministry": (
        Topic("electricity-subscription", "اشتراک برق", "electricity subscription", R),
        Topic("water-subscription", "اشتراک آب", "water subscription", R),
        Topic("electricity-bill", "قبض برق", "electricity bill", B),
        Topic("water-bill", "قبض آب", "water bill", B),
        Topic("well-licence", "پروانه بهره‌برداری چاه", "well operating licence", D),
        Topic(
            "power-plant-licence", "مجوز نیروگاه تجدیدپذیر", "renewable power plant licence", D, LID
        ),
        Topic("electricity-connection", "انشعاب برق", "electricity connection", C),
        Topic("water-connection", "انشعاب آب و فاضلاب", "water and sewer connection", C),
        Topic("utility-tariffs", "تعرفه‌های برق و آب", "electricity and water tariffs", F, NOBODY),
    ),
    "justice-ministry": (
        Topic(
            "forensic-report", "گزارش پزشکی قانونی", "forensic medical report", C, sensitive=True
        ),
        Topic("legal-aid", "معاضدت قضایی", "legal aid", C),
        Topic(
            "discretionary-case", "پرونده تعزیرات حکومتی", "discretionary punishments case", C, LID
        ),
        Topic(
            "blood-money",
            "دیه صندوق تأمین خسارت‌های بدنی",
            "bodily injury fund compensation",
            B,
            sensitive=True,
        ),
        Topic("translator-licence", "پروانه مترجم رسمی", "official translator licence", D),
        Topic("arbitration-licence", "مجوز مرکز داوری", "arbitration centre licence", D, LID),
        Topic(
            "translation-offices", "دارالترجمه‌های رسمی", "official translation offices", F, NOBODY
        ),
    ),
    "sports-ministry": (
        Topic("club-licence", "پروانه باشگاه ورزشی", "sports club licence", D, LID),
        Topic("coaching-card", "کارت مربیگری", "coaching card", D),
        Topic("youth-organisation", "مجوز تشکل جوانان", "youth organisation licence", D, LID),
        Topic("sports-insurance", "بیمه ورزشی", "sports insurance", S),
        Topic("event-permit", "مجوز رویداد ورزشی", "sports event permit", C, LID),
        Topic("championships", "سوابق قهرمانی", "championship record", R),
        Topic("sports-venues", "اماکن ورزشی", "sports venues", F, NOBODY),
    ),
}
