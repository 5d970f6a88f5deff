#!/usr/bin/env python3
"""PDFs made and changed by pyHanko (PyPI 0.38.0), nobody in this project: the other side of hcpki's PAdES.

    pades_peer.py make-pdf OUT [--pages N] [--title T] [--pad BYTES] [--xref-stream] [--dangling NUMBER]
    pades_peer.py forge-revision IN OUT
    pades_peer.py define-object IN OUT NUMBER
    pades_peer.py append-object IN OUT NUMBER
    pades_peer.py sign IN OUT --field NAME --key KEY --cert CERT [--chain CA]... [--tsa-key K --tsa-cert C]
                 [--visible X1,Y1,X2,Y2]
    pades_peer.py add-validation IN OUT --trust ROOT... [--cert CERT]... [--crl CRL]...
    pades_peer.py add-document-time-stamp IN OUT --tsa-key K --tsa-cert C

make-pdf writes a plain PDF with pyHanko's own writer (N pages of Helvetica text, /Info /Title T, and with --pad
one more content stream of BYTES bytes of text on the last page, to reach a size such as the 1 MB of the
benchmark); --xref-stream writes a cross-reference stream instead of a table.

forge-revision appends an incremental update, as any PDF editor would, that rewrites the first page's content
stream (the text "Forged"): what a signature's check must call a modification after signing.

The attacks on what a signed revision leaves open are written by hand, as an attacker would (no PDF library
writes them): make-pdf --dangling NUMBER draws the first page from [its content, NUMBER 0 R], a reference to an
object the file does not define (it reads as null: nothing more is drawn); define-object appends a revision with
its own cross-reference section that defines NUMBER as a content stream ("Pay 1,000,000 yen"), so a reader
draws it on that page. append-object appends the same object after the last %%EOF without any cross-reference
section or trailer: a conforming reader ignores it, a reader that repairs files may take it.

The signing side of other signers, through pyHanko's Python API (as a relying service or a second signer using
pyHanko would): sign adds a PAdES signature (ETSI.CAdES.detached) in a new field, invisible unless --visible
gives its rectangle on the first page, with the key and certificate files (PEM), time-stamped (B-T) by pyHanko's
own test TSA (DummyTimeStamper: it signs tokens with the RSA key --tsa-key under --tsa-cert) when given.
add-validation is pyHanko's B-LT step for every signature of the file: the certificates and CRLs given (nothing
fetched), judged against --trust, written to the DSS with /VRI entries. add-document-time-stamp is its B-LTA
step, a document time stamp. Each save rewrites /Info (/ModDate) and, on a file without them, adds the catalog's
/Extensions: what issue #42 item 4 asks hcpki to accept.

Run with the venv's python ($HCPKI_TOOLS/bin/python), where scripts/deps installs pyHanko.
"""
import argparse
import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

N = generic.pdf_name


FORGED = b"BT /F1 12 Tf 72 700 Td (Pay 1,000,000 yen) Tj ET"


def make_pdf(args):
    w = PdfFileWriter(stream_xrefs=args.xref_stream)
    font = generic.DictionaryObject(
        {N('/Type'): N('/Font'), N('/Subtype'): N('/Type1'), N('/BaseFont'): N('/Helvetica')})
    for i in range(args.pages):
        text = f"BT /F1 12 Tf 72 720 Td (Referral letter, page {i + 1}) Tj ET".encode()
        contents = [w.add_object(generic.StreamObject(stream_data=text))]
        if args.dangling and i == 0:
            contents.append(generic.IndirectObject(args.dangling, 0, w))
        if args.pad and i == args.pages - 1:
            line = b"% padding so the file has the size of a scanned letter\n"
            contents.append(w.add_object(generic.StreamObject(stream_data=line * (args.pad // len(line) + 1))))
        page = generic.DictionaryObject({
            N('/Type'): N('/Page'),
            N('/MediaBox'): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 595, 842)]),
            N('/Contents'): generic.ArrayObject(contents),
            N('/Resources'): generic.DictionaryObject({N('/Font'): generic.DictionaryObject({N('/F1'): font})}),
        })
        w.insert_page(page)
    w.document_meta.title = args.title
    with open(args.out, 'wb') as f:
        w.write(f)


def forge_revision(args):
    with open(args.infile, 'rb') as f:
        w = IncrementalPdfFileWriter(f)
        page_ref = w.root['/Pages']['/Kids'][0]
        page = page_ref.get_object()
        forged = w.add_object(generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 720 Td (Forged) Tj ET"))
        page['/Contents'] = forged
        w.update_container(page)
        with open(args.out, 'wb') as out:
            w.write(out)


def forged_object(number):
    return (f"{number} 0 obj\n<< /Length {len(FORGED)} >>\nstream\n".encode() + FORGED
            + b"\nendstream\nendobj\n")


def define_object(args):
    data = open(args.infile, 'rb').read()
    trailer = PdfFileReader(io.BytesIO(data)).trailer
    prev = int(data[data.rindex(b'startxref') + 9:].split()[0])
    out = bytearray(data if data.endswith(b'\n') else data + b'\n')
    offset = len(out)
    out += forged_object(args.number)
    xref = len(out)
    size = max(int(trailer['/Size']), args.number + 1)
    root, info = trailer.raw_get('/Root'), trailer.raw_get('/Info')
    out += f"xref\n{args.number} 1\n{offset:010} 00000 n\r\ntrailer\n<< /Size {size} ".encode()
    out += f"/Root {root.idnum} {root.generation} R /Info {info.idnum} {info.generation} R /Prev {prev} >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    open(args.out, 'wb').write(out)


def append_object(args):
    data = open(args.infile, 'rb').read()
    open(args.out, 'wb').write(data + forged_object(args.number))


def dummy_tsa(args):
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    return DummyTimeStamper(tsa_cert=load_cert_from_pemder(args.tsa_cert),
                            tsa_key=load_private_key_from_pemder(args.tsa_key, None))


def sign(args):
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import SigFieldSpec
    signer = signers.SimpleSigner.load(args.key, args.cert, ca_chain_files=args.chain or None)
    meta = signers.PdfSignatureMetadata(field_name=args.field, subfilter=fields.SigSeedSubFilter.PADES)
    timestamper = dummy_tsa(args) if args.tsa_key else None
    with open(args.infile, 'rb') as f:
        w = IncrementalPdfFileWriter(f)
        new_field = None
        if args.visible:
            box = tuple(int(v) for v in args.visible.split(','))
            new_field = SigFieldSpec(sig_field_name=args.field, on_page=0, box=box)
        with open(args.out, 'wb') as out:
            signers.sign_pdf(w, meta, signer=signer, timestamper=timestamper, output=out, new_field_spec=new_field)


def add_validation(args):
    from asn1crypto import crl as asn1_crl
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign.validation import add_validation_info
    from pyhanko_certvalidator import ValidationContext
    crls = [asn1_crl.CertificateList.load(open(c, 'rb').read()) for c in args.crl]
    data = open(args.infile, 'rb').read()
    count = len(PdfFileReader(io.BytesIO(data)).embedded_regular_signatures)
    for index in range(count):
        context = ValidationContext(
            trust_roots=[load_cert_from_pemder(t) for t in args.trust],
            other_certs=[load_cert_from_pemder(c) for c in args.cert], crls=crls,
            allow_fetching=False, revocation_mode='soft-fail')
        signature = PdfFileReader(io.BytesIO(data)).embedded_regular_signatures[index]
        out = io.BytesIO()
        add_validation_info(signature, context, output=out)
        data = out.getvalue()
    open(args.out, 'wb').write(data)


def add_document_time_stamp(args):
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    with open(args.infile, 'rb') as f:
        w = IncrementalPdfFileWriter(f)
        with open(args.out, 'wb') as out:
            PdfTimeStamper(dummy_tsa(args)).timestamp_pdf(w, 'sha256', output=out)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='command', required=True)

    def command(name, run, *arguments):
        parser = sub.add_parser(name)
        for argument in arguments:
            parser.add_argument(argument)
        parser.set_defaults(run=run)
        return parser

    m = command('make-pdf', make_pdf, 'out')
    m.add_argument('--pages', type=int, default=1)
    m.add_argument('--title', default='')
    m.add_argument('--pad', type=int, default=0)
    m.add_argument('--xref-stream', action='store_true')
    m.add_argument('--dangling', type=int, default=0)
    command('forge-revision', forge_revision, 'infile', 'out')
    for name, run in (('define-object', define_object), ('append-object', append_object)):
        command(name, run, 'infile', 'out').add_argument('number', type=int)
    g = command('sign', sign, 'infile', 'out')
    for option in ('--field', '--key', '--cert'):
        g.add_argument(option, required=True)
    g.add_argument('--chain', action='append', default=[])
    for option in ('--tsa-key', '--tsa-cert', '--visible'):
        g.add_argument(option)
    v = command('add-validation', add_validation, 'infile', 'out')
    v.add_argument('--trust', action='append', required=True)
    v.add_argument('--cert', action='append', default=[])
    v.add_argument('--crl', action='append', default=[])
    t = command('add-document-time-stamp', add_document_time_stamp, 'infile', 'out')
    for option in ('--tsa-key', '--tsa-cert'):
        t.add_argument(option, required=True)
    args = p.parse_args()
    args.run(args)


if __name__ == '__main__':
    main()
