"""The stored rows the IAM use cases hand to the wire, named here so the wire never imports the store."""

from __future__ import annotations

from ...store.models import AccessKey as AccessKey
from ...store.models import Account as Account
from ...store.models import IamGroup as IamGroup
from ...store.models import IamRole as IamRole
from ...store.models import IamUser as IamUser
from ...store.models import ServerCertificate as ServerCertificate
from ...store.models import SigningCertificate as SigningCertificate
