"""Start localstripe on 127.0.0.1 with a few PaymentIntent parameters it lacks.

localstripe (pinned in requirements.txt) is a stateful fake of the Stripe API.
Its ``PaymentIntent.__init__`` raises ``400 Unexpected <name>`` for every
parameter it does not model. The product sends four such parameters, all of
them documented parameters of Stripe's "create a PaymentIntent" call:

``description``
    Free text shown in the Stripe dashboard and on receipts. The product puts
    the event name and dates there.
``receipt_email``
    The address Stripe sends its own receipt to. The product may leave it off.
``statement_descriptor_suffix``
    Text appended to the account's statement descriptor on the card
    statement.
``automatic_payment_methods``
    ``enabled`` (boolean) lets Stripe choose the payment methods from the
    dashboard settings, and ``allow_redirects`` (``always`` or ``never``)
    limits them to ones without a redirect.

This shim accepts these four parameters, checks their types and stores them on
the PaymentIntent. Like Stripe, every PaymentIntent then has all four fields,
``null`` when they were not sent, so they come back on retrieve and can be
changed with an update. The form-encoded value of ``enabled`` is turned into a
JSON boolean, as Stripe returns it. The shim changes nothing else:

* The ``Idempotency-Key`` header stays ignored, as in localstripe, so two
  requests with the same key create two PaymentIntents. The product must be
  correct without idempotency, and tests run against exactly that.
* ``POST /v1/payment_intents/{id}/cancel`` is localstripe's own.

Two start-up details differ from ``localstripe --port N``:

* localstripe listens on every interface (``::``). The shim listens on
  127.0.0.1 only.
* localstripe pickles its whole store to the fixed path
  ``/tmp/localstripe.pickle`` after every write, even with ``--from-scratch``,
  so runs on one machine would overwrite each other's file. The shim points
  that file into a private temporary directory, which it deletes on exit.
"""

import argparse
import logging
import os
import pickle
import shutil
import sys
import tempfile

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError
from localstripe.resources import PaymentIntent, Store
from localstripe.server import app

ALLOWED_REDIRECTS = ("always", "never")


def check_optional_string(name, value):
    """Raise localstripe's 400 error unless ``value`` is a string or None."""
    if value is not None and not isinstance(value, str):
        raise UserError(400, "Bad request: %s must be a string" % name)


def parse_automatic_payment_methods(value):
    """Return ``value`` with ``enabled`` as a bool, or raise a 400 error."""
    if value is None:
        return None
    if not isinstance(value, dict) or "enabled" not in value:
        raise UserError(
            400, "Bad request: automatic_payment_methods[enabled] is missing")
    unknown = set(value) - {"enabled", "allow_redirects"}
    if unknown:
        raise UserError(
            400, "Unexpected automatic_payment_methods[%s]"
            % ", ".join(sorted(unknown)))
    enabled = resources.try_convert_to_bool(value["enabled"])
    if not isinstance(enabled, bool):
        raise UserError(
            400, "Bad request: automatic_payment_methods[enabled] must be "
            "true or false")
    allow_redirects = value.get("allow_redirects")
    if allow_redirects not in (None,) + ALLOWED_REDIRECTS:
        raise UserError(
            400, "Bad request: automatic_payment_methods[allow_redirects] "
            "must be always or never")
    parsed = {"enabled": enabled}
    if allow_redirects is not None:
        parsed["allow_redirects"] = allow_redirects
    return parsed


def patch_payment_intent():
    """Make ``PaymentIntent`` accept and keep the four parameters above."""
    original_init = PaymentIntent.__init__

    def init(self, description=None, receipt_email=None,
             statement_descriptor_suffix=None, automatic_payment_methods=None,
             **kwargs):
        # Every check runs before localstripe's own __init__, because that
        # __init__ adds the object to the store.
        check_optional_string("description", description)
        check_optional_string("receipt_email", receipt_email)
        check_optional_string(
            "statement_descriptor_suffix", statement_descriptor_suffix)
        automatic_payment_methods = parse_automatic_payment_methods(
            automatic_payment_methods)

        original_init(self, **kwargs)

        self.description = description
        self.receipt_email = receipt_email
        self.statement_descriptor_suffix = statement_descriptor_suffix
        self.automatic_payment_methods = automatic_payment_methods

    PaymentIntent.__init__ = init


def move_store_file(directory):
    """Make localstripe pickle its store into ``directory`` only."""
    path = os.path.join(directory, "localstripe.pickle")

    def try_load_from_disk(store):
        try:
            with open(path, "rb") as f:
                saved = pickle.load(f)
        except FileNotFoundError:
            return
        store.clear()
        store.update(saved)

    def dump_to_disk(store):
        with open(path, "wb") as f:
            pickle.dump(store, f, protocol=pickle.HIGHEST_PROTOCOL)

    Store.try_load_from_disk = try_load_from_disk
    Store.dump_to_disk = dump_to_disk


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, required=True,
        help="TCP port to listen on at 127.0.0.1")
    parser.add_argument(
        "--from-scratch", action="store_true",
        help="start with an empty store, like localstripe's option. The "
        "store starts empty anyway, because its file is in a new temporary "
        "directory")
    args = parser.parse_args()

    patch_payment_intent()
    store_directory = tempfile.mkdtemp(prefix="localstripe-")
    move_store_file(store_directory)
    try:
        if not args.from_scratch:
            resources.store.try_load_from_disk()

        # localstripe logs each request and each webhook delivery here.
        access_log = logging.getLogger("aiohttp.access")
        access_log.setLevel(logging.DEBUG)
        access_log.addHandler(logging.StreamHandler())

        web.run_app(app, host="127.0.0.1", port=args.port,
                    access_log=access_log, print=print_flushed)
    finally:
        shutil.rmtree(store_directory, ignore_errors=True)


def print_flushed(message):
    """Print aiohttp's start-up line at once, because stdout is a log file."""
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
