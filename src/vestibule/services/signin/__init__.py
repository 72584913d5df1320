"""Console sign-in for root users and IAM users, as a stored multi-step flow.

Credential checks are strategies (`methods/`); every successful sign-in ends in `completion.complete_sign_in`.
"""

from .completion import SignedIn, complete_sign_in
from .gate import iam_keys, risk, root_keys
from .iam import iam_risk, submit_iam_password
from .reopen import submit_reopen
from .root import resend_email_code, root_risk, start_root, submit_email_code, submit_root_password
from .steps import Continue, Outcome, load_flow, mfa_choices, submit_mfa, submit_new_password, submit_webauthn

__all__ = [
    "Continue", "Outcome", "SignedIn", "complete_sign_in", "iam_keys", "iam_risk", "load_flow", "mfa_choices",
    "resend_email_code",
    "risk", "root_keys", "root_risk", "start_root", "submit_email_code", "submit_iam_password", "submit_mfa",
    "submit_new_password", "submit_reopen", "submit_root_password", "submit_webauthn",
]
