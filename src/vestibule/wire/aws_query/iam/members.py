"""IAM input members shared by many operations, as the IAM model declares them."""

from __future__ import annotations

from ...members import Member, integer, string_list, structure_list, text

NAME = r"[\w+=,.@-]+"
PATH_PATTERN = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"
DOCUMENT_PATTERN = r"[\u0009\u000A\u000D\u0020-\u00FF]+"

USER_NAME = text("UserName", 1, 64, NAME)  # userNameType: creating or renaming a user
EXISTING_USER_NAME = text("UserName", 1, 128, NAME)  # existingUserNameType: naming one that exists
GROUP_NAME = text("GroupName", 1, 128, NAME)
ROLE_NAME = text("RoleName", 1, 64, NAME)
POLICY_NAME = text("PolicyName", 1, 128, NAME)
PATH = text("Path", 1, 512, PATH_PATTERN)
PATH_PREFIX = text("PathPrefix", 1, 512, r"\u002F[\u0021-\u007F]*")
POLICY_PATH = text("Path", 1, 512, r"((/[A-Za-z0-9\.,\+@=_-]+)*)/")  # policyPathType
POLICY_PATH_PREFIX = POLICY_PATH.named("PathPrefix")
POLICY_ARN = text("PolicyArn", 20, 2048)
POLICY_DOCUMENT = text("PolicyDocument", 1, 131072, DOCUMENT_PATTERN)
SERIAL = text("SerialNumber", 9, 256, r"[\w+=/:,.@-]+")
AUTH_CODE = text("AuthenticationCode1", 6, 6, r"[\d]+")
ACCESS_KEY_ID = text("AccessKeyId", 16, 128, r"[\w]+")
PASSWORD = text("Password", 1, 128, DOCUMENT_PATTERN).sensitive()
TAGS = structure_list("Tags", 50)
TAG_KEYS = string_list("TagKeys", 50)
MARKER = text("Marker", 1, 320, r"[\u0020-\u00FF]+")
MAX_ITEMS = integer("MaxItems", 1, 1000)
PAGES: tuple[Member, ...] = (MARKER, MAX_ITEMS)


def listing(*members: Member) -> tuple[Member, ...]:
    """The members of a List operation: its own and Marker/MaxItems."""
    return (*members, *PAGES)


