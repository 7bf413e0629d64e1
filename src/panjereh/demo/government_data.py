"""Who the demonstration government is: purposes, agencies, their systems and relationships.

Pure tables, no logic.  Names follow the bodies' official Persian and English names; legal ids
are completed with their check digit by the builder; e-mail addresses use the reserved
``.example`` top-level domain.  The seed (docs/demo-government.md) explains the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from panjereh.registry.model import AgencyKind, Status, SystemRole

PROVIDER = (SystemRole.PROVIDER,)
CONSUMER = (SystemRole.CONSUMER,)
BOTH = (SystemRole.PROVIDER, SystemRole.CONSUMER)


@dataclass(frozen=True, slots=True)
class PurposeRow:
    code: str
    name_fa: str
    name_en: str
    legal_basis: str


@dataclass(frozen=True, slots=True)
class SystemRow:
    code: str
    name: str
    roles: tuple[SystemRole, ...]
    status: Status = Status.ACTIVE


@dataclass(frozen=True, slots=True)
class AgencyRow:
    code: str
    legal_prefix: str  # the first ten digits of the legal id; the check digit is computed
    name_fa: str
    name_en: str
    kind: AgencyKind
    parent: str | None
    category: str  # default category of its citizen services
    purposes: tuple[str, ...]  # what it declares when it asks other agencies
    systems: tuple[SystemRow, ...]  # the first active provider serves its inquiries


PURPOSES: tuple[PurposeRow, ...] = (
    PurposeRow(
        "identity-verification",
        "احراز هویت",
        "Identity verification",
        "Civil Registration Act (1976) and the e-government identity-verification rules.",
    ),
    PurposeRow(
        "benefit-eligibility",
        "تعیین استحقاق مزایا و حمایت‌ها",
        "Benefit eligibility",
        "Social Security Act (1975) and the Comprehensive Welfare and Social Security Act (2004).",
    ),
    PurposeRow(
        "employment-check",
        "بررسی سوابق اشتغال",
        "Employment check",
        "Labour Code (1990), art. 148, and Social Security Act (1975), art. 36.",
    ),
    PurposeRow(
        "education-verification",
        "تأیید مدارک تحصیلی",
        "Education verification",
        "Act on the Duties of the Ministry of Science, Research and Technology (2004), art. 3.",
    ),
    PurposeRow(
        "licensing",
        "صدور و تمدید مجوز",
        "Licensing",
        "Business Environment Improvement Act (2011) and the national licensing portal rules.",
    ),
    PurposeRow(
        "tax-assessment",
        "تشخیص و وصول مالیات",
        "Tax assessment",
        "Direct Taxation Act (1987, amended 2015), arts. 169 bis and 181.",
    ),
    PurposeRow(
        "law-enforcement",
        "وظایف انتظامی و ضابطان قضایی",
        "Law enforcement",
        "Code of Criminal Procedure (2014), arts. 28-30 on judicial officers.",
    ),
    PurposeRow(
        "judicial-proceedings",
        "رسیدگی قضایی",
        "Judicial proceedings",
        "Code of Civil Procedure (2000) and Code of Criminal Procedure (2014).",
    ),
    PurposeRow(
        "election-administration",
        "برگزاری انتخابات",
        "Election administration",
        "Presidential, Parliamentary and Councils Election Acts (the Interior Ministry runs them).",
    ),
    PurposeRow(
        "healthcare-coverage",
        "پوشش بیمه درمانی",
        "Healthcare coverage",
        "Universal Health Insurance Act (1994).",
    ),
    PurposeRow(
        "vehicle-registration",
        "شماره‌گذاری و ثبت خودرو",
        "Vehicle registration",
        "Road Traffic Offences Act (2010) and the vehicle registration rules.",
    ),
    PurposeRow(
        "company-verification",
        "احراز اعتبار اشخاص حقوقی",
        "Company verification",
        "Commercial Code (1932) and the Registration of Companies Act (1931).",
    ),
    PurposeRow(
        "fuel-allocation",
        "تخصیص سهمیه سوخت",
        "Fuel allocation",
        "Targeted Subsidies Act (2010) and the fuel quota regulations.",
    ),
)

AGENCIES: tuple[AgencyRow, ...] = (
    AgencyRow(
        code="interior-ministry",
        legal_prefix="1400041233",
        name_fa="وزارت کشور",
        name_en="Ministry of Interior",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="elections",
        purposes=("election-administration", "identity-verification"),
        systems=(SystemRow("elections", "Election management system", BOTH),),
    ),
    AgencyRow(
        code="civil-registry",
        legal_prefix="1400026754",
        name_fa="سازمان ثبت احوال کشور",
        name_en="National Organization for Civil Registration",
        kind=AgencyKind.ORGANIZATION,
        parent="interior-ministry",
        category="identity",
        purposes=("identity-verification",),
        systems=(
            SystemRow("population-registry", "Population registry", PROVIDER),
            SystemRow("vital-events", "Vital events registration", CONSUMER),
        ),
    ),
    AgencyRow(
        code="science-ministry",
        legal_prefix="1400123456",
        name_fa="وزارت علوم، تحقیقات و فناوری",
        name_en="Ministry of Science, Research and Technology",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="education",
        purposes=("education-verification",),
        systems=(SystemRow("degrees", "Degree registry", BOTH),),
    ),
    AgencyRow(
        code="education-ministry",
        legal_prefix="1400051987",
        name_fa="وزارت آموزش و پرورش",
        name_en="Ministry of Education",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="education",
        purposes=("education-verification", "identity-verification"),
        systems=(SystemRow("student-records", "Student information system (SIDA)", BOTH),),
    ),
    AgencyRow(
        code="labour-ministry",
        legal_prefix="1400062214",
        name_fa="وزارت تعاون، کار و رفاه اجتماعی",
        name_en="Ministry of Cooperatives, Labour and Social Welfare",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="employment",
        purposes=("employment-check", "benefit-eligibility"),
        systems=(SystemRow("employment-services", "Employment and livelihood support", BOTH),),
    ),
    AgencyRow(
        code="social-security",
        legal_prefix="1400039845",
        name_fa="سازمان تأمین اجتماعی",
        name_en="Social Security Organization",
        kind=AgencyKind.ORGANIZATION,
        parent="labour-ministry",
        category="social-welfare",
        purposes=("benefit-eligibility", "employment-check"),
        systems=(
            SystemRow("insurance-records", "Insurance records system", PROVIDER),
            SystemRow("benefits", "Benefits system", CONSUMER),
        ),
    ),
    AgencyRow(
        code="welfare-organization",
        legal_prefix="1400174308",
        name_fa="سازمان بهزیستی کشور",
        name_en="State Welfare Organization of Iran",
        kind=AgencyKind.ORGANIZATION,
        parent="labour-ministry",
        category="social-welfare",
        purposes=("benefit-eligibility",),
        systems=(
            SystemRow("clients", "Client support system", BOTH),
            SystemRow("rehabilitation", "Rehabilitation services", PROVIDER, Status.SUSPENDED),
        ),
    ),
    AgencyRow(
        code="health-ministry",
        legal_prefix="1400073350",
        name_fa="وزارت بهداشت، درمان و آموزش پزشکی",
        name_en="Ministry of Health and Medical Education",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="health",
        purposes=("healthcare-coverage", "licensing"),
        systems=(
            SystemRow("health-records", "Electronic health record (SEPAS)", PROVIDER),
            SystemRow("health-licensing", "Health licensing system", CONSUMER),
        ),
    ),
    AgencyRow(
        code="health-insurance",
        legal_prefix="1400084471",
        name_fa="سازمان بیمه سلامت ایران",
        name_en="Iran Health Insurance Organization",
        kind=AgencyKind.ORGANIZATION,
        parent="health-ministry",
        category="health",
        purposes=("healthcare-coverage",),
        systems=(SystemRow("coverage", "Coverage and claims system", BOTH),),
    ),
    AgencyRow(
        code="judiciary",
        legal_prefix="1400095528",
        name_fa="قوه قضاییه",
        name_en="Judiciary of the Islamic Republic of Iran",
        kind=AgencyKind.JUDICIARY,
        parent=None,
        category="justice",
        purposes=("judicial-proceedings",),
        systems=(
            SystemRow("judicial-records", "Judicial records and notices", PROVIDER),
            SystemRow("case-management", "Integrated case management", CONSUMER),
        ),
    ),
    AgencyRow(
        code="companies-registry",
        legal_prefix="1400106630",
        name_fa="سازمان ثبت اسناد و املاک کشور",
        name_en="Deeds and Real Estate Registration Organization",
        kind=AgencyKind.ORGANIZATION,
        parent="judiciary",
        category="business",
        purposes=("company-verification",),
        systems=(
            SystemRow("companies", "Companies and institutions registry", PROVIDER),
            SystemRow("deeds", "Property deeds registry", BOTH),
        ),
    ),
    AgencyRow(
        code="justice-ministry",
        legal_prefix="1400117742",
        name_fa="وزارت دادگستری",
        name_en="Ministry of Justice",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="justice",
        purposes=("judicial-proceedings",),
        systems=(SystemRow("justice-services", "Justice services", BOTH),),
    ),
    AgencyRow(
        code="traffic-police",
        legal_prefix="1400128859",
        name_fa="پلیس راهور فراجا",
        name_en="FARAJA Traffic Police",
        kind=AgencyKind.POLICE,
        parent=None,
        category="vehicles",
        purposes=("vehicle-registration", "law-enforcement"),
        systems=(
            SystemRow("vehicles", "Vehicle and driving licence registry", PROVIDER),
            SystemRow("enforcement", "Traffic enforcement system", CONSUMER),
        ),
    ),
    AgencyRow(
        code="ict-ministry",
        legal_prefix="1400139961",
        name_fa="وزارت ارتباطات و فناوری اطلاعات",
        name_en="Ministry of Information and Communications Technology",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="telecom",
        purposes=("identity-verification", "licensing"),
        systems=(SystemRow("e-government", "Government services gateway", BOTH),),
    ),
    AgencyRow(
        code="telecom-regulator",
        legal_prefix="1400141075",
        name_fa="سازمان تنظیم مقررات و ارتباطات رادیویی",
        name_en="Communications Regulatory Authority",
        kind=AgencyKind.REGULATOR,
        parent="ict-ministry",
        category="telecom",
        purposes=("identity-verification", "licensing"),
        systems=(
            SystemRow("subscribers", "Subscriber registry", PROVIDER),
            SystemRow("licensing", "Licensing system", CONSUMER),
        ),
    ),
    AgencyRow(
        code="economy-ministry",
        legal_prefix="1400152186",
        name_fa="وزارت امور اقتصادی و دارایی",
        name_en="Ministry of Economic Affairs and Finance",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="business",
        purposes=("company-verification", "tax-assessment"),
        systems=(SystemRow("customs", "Customs and state finance system", BOTH),),
    ),
    AgencyRow(
        code="tax-administration",
        legal_prefix="1400163297",
        name_fa="سازمان امور مالیاتی کشور",
        name_en="Iranian National Tax Administration",
        kind=AgencyKind.ORGANIZATION,
        parent="economy-ministry",
        category="tax",
        purposes=("tax-assessment",),
        systems=(
            SystemRow("tax-files", "Integrated tax system", PROVIDER),
            SystemRow("assessment", "Tax assessment", CONSUMER),
        ),
    ),
    AgencyRow(
        code="agriculture-ministry",
        legal_prefix="1400185419",
        name_fa="وزارت جهاد کشاورزی",
        name_en="Ministry of Agriculture Jihad",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="agriculture",
        purposes=("licensing", "benefit-eligibility"),
        systems=(
            SystemRow("farmers", "Farmer and farmland registry", BOTH),
            SystemRow("livestock", "Livestock identification", PROVIDER, Status.SUSPENDED),
        ),
    ),
    AgencyRow(
        code="cultural-heritage-ministry",
        legal_prefix="1400196520",
        name_fa="وزارت میراث فرهنگی، گردشگری و صنایع‌دستی",
        name_en="Ministry of Cultural Heritage, Tourism and Handicrafts",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="culture",
        purposes=("licensing",),
        systems=(SystemRow("licensing", "Tourism and handicraft licensing", BOTH),),
    ),
    AgencyRow(
        code="oil-ministry",
        legal_prefix="1400207631",
        name_fa="وزارت نفت",
        name_en="Ministry of Petroleum",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="energy",
        purposes=("fuel-allocation",),
        systems=(
            SystemRow("fuel", "Smart fuel system", BOTH),
            SystemRow("gas-subscribers", "Gas subscriber system", PROVIDER),
        ),
    ),
    AgencyRow(
        code="energy-ministry",
        legal_prefix="1400218742",
        name_fa="وزارت نیرو",
        name_en="Ministry of Energy",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="energy",
        purposes=("licensing",),
        systems=(SystemRow("utilities", "Electricity and water subscribers", BOTH),),
    ),
    AgencyRow(
        code="sports-ministry",
        legal_prefix="1400229853",
        name_fa="وزارت ورزش و جوانان",
        name_en="Ministry of Sports and Youth",
        kind=AgencyKind.MINISTRY,
        parent=None,
        category="sports",
        purposes=("licensing",),
        systems=(SystemRow("sports-services", "Sports and youth services", BOTH),),
    ),
)

# Which agencies plausibly ask which: provider agency -> consumer agencies of its inquiries.
# Science-ministry never asks civil-registry: it is the demo's persona without that grant.
GRANT_CONSUMERS: dict[str, tuple[str, ...]] = {
    "civil-registry": (
        "social-security",
        "health-insurance",
        "tax-administration",
        "welfare-organization",
        "education-ministry",
        "judiciary",
        "traffic-police",
        "interior-ministry",
        "telecom-regulator",
        "labour-ministry",
    ),
    "social-security": (
        "labour-ministry",
        "welfare-organization",
        "tax-administration",
        "health-insurance",
        "judiciary",
    ),
    "judiciary": ("traffic-police", "companies-registry", "justice-ministry", "interior-ministry"),
    "tax-administration": (
        "economy-ministry",
        "companies-registry",
        "judiciary",
        "social-security",
        "welfare-organization",
    ),
    "traffic-police": (
        "judiciary",
        "tax-administration",
        "economy-ministry",
        "welfare-organization",
        "oil-ministry",
    ),
    "education-ministry": ("science-ministry", "labour-ministry", "welfare-organization"),
    "science-ministry": (
        "education-ministry",
        "labour-ministry",
        "health-ministry",
        "justice-ministry",
    ),
    "health-ministry": (
        "health-insurance",
        "social-security",
        "welfare-organization",
        "justice-ministry",
    ),
    "health-insurance": ("health-ministry", "social-security", "welfare-organization"),
    "companies-registry": (
        "tax-administration",
        "economy-ministry",
        "judiciary",
        "social-security",
    ),
    "welfare-organization": ("labour-ministry", "social-security", "health-insurance"),
    "interior-ministry": ("civil-registry", "judiciary", "telecom-regulator"),
    "labour-ministry": ("social-security", "tax-administration", "welfare-organization"),
    "economy-ministry": ("tax-administration", "companies-registry"),
    "ict-ministry": ("telecom-regulator", "economy-ministry", "interior-ministry"),
    "telecom-regulator": ("judiciary", "interior-ministry", "ict-ministry", "traffic-police"),
    "agriculture-ministry": ("economy-ministry", "tax-administration", "energy-ministry"),
    "cultural-heritage-ministry": ("tax-administration", "interior-ministry"),
    "oil-ministry": ("traffic-police", "tax-administration", "welfare-organization"),
    "energy-ministry": ("agriculture-ministry", "tax-administration", "welfare-organization"),
    "justice-ministry": ("judiciary", "health-insurance"),
    "sports-ministry": ("social-security", "education-ministry"),
}

# Agencies that ask for only the fields they need (their grants carry a projection).
MINIMISING_CONSUMERS: frozenset[str] = frozenset(
    {"health-insurance", "tax-administration", "telecom-regulator", "education-ministry"}
)

# Share of citizen services delivered electronically (electronic or smart), and smart.
# The seed: Justice, Energy, ICT, Education and Sports & Youth above 70%; Agriculture Jihad,
# Cultural Heritage and Oil low; overall smart share below the 20% legal target.
DELIVERY_TARGETS: dict[str, tuple[float, float]] = {
    "justice-ministry": (0.80, 0.30),
    "energy-ministry": (0.76, 0.28),
    "ict-ministry": (0.84, 0.32),
    "education-ministry": (0.78, 0.26),
    "sports-ministry": (0.73, 0.22),
    "agriculture-ministry": (0.15, 0.02),
    "cultural-heritage-ministry": (0.20, 0.03),
    "oil-ministry": (0.12, 0.02),
    "civil-registry": (0.68, 0.24),
    "social-security": (0.62, 0.18),
    "tax-administration": (0.66, 0.18),
    "traffic-police": (0.60, 0.16),
    "science-ministry": (0.64, 0.16),
    "health-ministry": (0.45, 0.08),
    "health-insurance": (0.55, 0.12),
    "judiciary": (0.58, 0.12),
    "companies-registry": (0.50, 0.10),
    "welfare-organization": (0.30, 0.04),
    "interior-ministry": (0.42, 0.08),
    "labour-ministry": (0.48, 0.10),
    "economy-ministry": (0.44, 0.08),
    "telecom-regulator": (0.58, 0.12),
}
DEFAULT_DELIVERY_TARGET = (0.40, 0.06)
