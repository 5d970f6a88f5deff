#!/usr/bin/env python3
"""PDFs made and changed by pyHanko (PyPI 0.38.0), nobody in this project: the other side of hcpki's PAdES.

    pades_peer.py make-pdf OUT [--pages N] [--title T] [--pad BYTES] [--xref-stream]
    pades_peer.py forge-revision IN OUT

make-pdf writes a plain PDF with pyHanko's own writer (N pages of Helvetica text, /Info /Title T, and with --pad
one more content stream of BYTES bytes of text on the last page, to reach a size such as the 1 MB of the
benchmark); --xref-stream writes a cross-reference stream instead of a table.

forge-revision appends an incremental update, as any PDF editor would, that rewrites the first page's content
stream (the text "Forged"): what a signature's check must call a modification after signing.

Run with the venv's python ($HCPKI_TOOLS/bin/python), where scripts/deps installs pyHanko.
"""
import argparse

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter

N = generic.pdf_name


def make_pdf(args):
    w = PdfFileWriter(stream_xrefs=args.xref_stream)
    font = generic.DictionaryObject(
        {N('/Type'): N('/Font'), N('/Subtype'): N('/Type1'), N('/BaseFont'): N('/Helvetica')})
    for i in range(args.pages):
        text = f"BT /F1 12 Tf 72 720 Td (Referral letter, page {i + 1}) Tj ET".encode()
        contents = [w.add_object(generic.StreamObject(stream_data=text))]
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


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='command', required=True)
    m = sub.add_parser('make-pdf')
    m.add_argument('out')
    m.add_argument('--pages', type=int, default=1)
    m.add_argument('--title', default='')
    m.add_argument('--pad', type=int, default=0)
    m.add_argument('--xref-stream', action='store_true')
    m.set_defaults(run=make_pdf)
    f = sub.add_parser('forge-revision')
    f.add_argument('infile')
    f.add_argument('out')
    f.set_defaults(run=forge_revision)
    args = p.parse_args()
    args.run(args)


if __name__ == '__main__':
    main()
