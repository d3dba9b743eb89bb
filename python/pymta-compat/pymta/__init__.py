"""pymta 0.8's API on mtakit's engine.

Code written for pymta runs unchanged::

    from pymta import PythonMTA, IMTAPolicy, IAuthenticator, IMessageDeliverer
    from pymta import PolicyDecision, Message, Peer
    from pymta.test_util import SMTPTestHelper, CommandParserHelper

What differs from pymta, and why, is in this distribution's README.
"""

from pymta.api import (
    IAuthenticator,
    IMessageDeliverer,
    IMTAPolicy,
    PolicyDecision,
    PyMTAException,
)
from pymta.model import Message, Peer
from pymta.mta import PythonMTA
from pymta.session import SMTPSession

__all__ = [
    "IAuthenticator",
    "IMTAPolicy",
    "IMessageDeliverer",
    "Message",
    "Peer",
    "PolicyDecision",
    "PyMTAException",
    "PythonMTA",
    "SMTPSession",
]
