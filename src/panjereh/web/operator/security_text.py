"""Interface text of the second sign-in step and the account security pages (staff TOTP),
merged into `panjereh.web.operator.i18n`."""

from __future__ import annotations

SECURITY_FA = {
    "code_title": "ورود دومرحله‌ای",
    "code_intro": (
        "کد ۶ رقمی برنامهٔ احراز هویت خود را بنویسید، یا اگر گوشی در دسترس نیست یکی از کدهای "
        "بازیابی را."
    ),
    "code": "کد",
    "code_button": "تأیید",
    "code_failed": "این کد درست نیست یا پیش‌تر به کار رفته است.",
    "code_expired": "مهلت این ورود گذشته است؛ لطفاً دوباره وارد شوید.",
    "start_again": "ورود از نو",
    "nav_security": "امنیت حساب",
    "security": "امنیت حساب",
    "two_step": "ورود دومرحله‌ای",
    "two_step_on": "ورود دومرحله‌ای فعال است",
    "two_step_off": "ورود دومرحله‌ای فعال نیست.",
    "two_step_since": "فعال از",
    "two_step_required": (
        "ورود دومرحله‌ای در این سامانه الزامی است: پیش از هر کار دیگری آن را فعال کنید."
    ),
    "two_step_intro": (
        "با ورود دومرحله‌ای، پس از گذرواژه کدی از برنامهٔ احراز هویت گوشی شما (مانند FreeOTP، "
        "Aegis یا Google Authenticator) خواسته می‌شود."
    ),
    "recovery_left": "کدهای بازیابی باقی‌مانده",
    "enrol_button": "فعال‌سازی ورود دومرحله‌ای",
    "enrol_title": "فعال‌سازی ورود دومرحله‌ای",
    "enrol_steps": (
        "این رمزینه را با برنامهٔ احراز هویت بخوانید (یا کلید را دستی وارد کنید)، سپس کد ۶ "
        "رقمی‌ای را که برنامه نشان می‌دهد بنویسید."
    ),
    "qr_label": "رمزینهٔ QR برای برنامهٔ احراز هویت",
    "secret_key": "کلید",
    "secret_once": "این کلید پس از فعال‌سازی دیگر نشان داده نمی‌شود.",
    "confirm_button": "تأیید و فعال‌سازی",
    "enrol_failed": "این کد درست نیست؛ ساعت گوشی را بررسی کنید و کد تازه را بنویسید.",
    "recovery_title": "کدهای بازیابی",
    "recovery_intro": (
        "ورود دومرحله‌ای فعال شد. اگر گوشی خود را گم کنید، با هر یک از این کدها یک بار "
        "می‌توانید وارد شوید. آن‌ها را جای امنی نگه دارید: دوباره نشان داده نمی‌شوند."
    ),
    "continue": "ادامه",
    "disable_title": "غیرفعال‌سازی ورود دومرحله‌ای",
    "disable_intro": (
        "برای غیرفعال‌سازی یک کد برنامه یا یک کد بازیابی بنویسید. برای عوض کردن گوشی، "
        "غیرفعال کنید و دوباره فعال کنید. اگر هیچ کدی ندارید، از راهبر سامانه بخواهید آن را "
        "بازنشانی کند."
    ),
    "disable_button": "غیرفعال‌سازی",
    "disable_failed": "این کد درست نیست یا پیش‌تر به کار رفته است؛ چیزی تغییر نکرد.",
    "done.totp.disable": "ورود دومرحله‌ای غیرفعال شد.",
}

SECURITY_EN = {
    "code_title": "Two-step sign-in",
    "code_intro": (
        "Enter the 6-digit code of your authenticator app, or one of your recovery codes if "
        "your phone is not at hand."
    ),
    "code": "Code",
    "code_button": "Verify",
    "code_failed": "This code is not right or has been used already.",
    "code_expired": "This sign-in has expired; please sign in again.",
    "start_again": "Sign in again",
    "nav_security": "Account security",
    "security": "Account security",
    "two_step": "Two-step sign-in",
    "two_step_on": "Two-step sign-in is on",
    "two_step_off": "Two-step sign-in is off.",
    "two_step_since": "On since",
    "two_step_required": "Two-step sign-in is required here: turn it on before anything else.",
    "two_step_intro": (
        "With two-step sign-in, a code from the authenticator app on your phone (such as "
        "FreeOTP, Aegis or Google Authenticator) is asked for after the password."
    ),
    "recovery_left": "Recovery codes left",
    "enrol_button": "Turn on two-step sign-in",
    "enrol_title": "Turn on two-step sign-in",
    "enrol_steps": (
        "Scan this code with your authenticator app (or type the key into it), then enter the "
        "6-digit code the app shows."
    ),
    "qr_label": "QR code for the authenticator app",
    "secret_key": "Key",
    "secret_once": "Once two-step sign-in is on, this key is never shown again.",
    "confirm_button": "Verify and turn on",
    "enrol_failed": "This code is not right; check your phone's clock and enter a fresh code.",
    "recovery_title": "Recovery codes",
    "recovery_intro": (
        "Two-step sign-in is on. If you lose your phone, each of these codes signs you in "
        "once. Keep them somewhere safe: they are not shown again."
    ),
    "continue": "Continue",
    "disable_title": "Turn off two-step sign-in",
    "disable_intro": (
        "Enter a code of the app or a recovery code to turn it off. To move to a new phone, "
        "turn it off and on again. Without any code, ask an operator to reset it."
    ),
    "disable_button": "Turn off",
    "disable_failed": "This code is not right or has been used already; nothing changed.",
    "done.totp.disable": "Two-step sign-in is off.",
}
