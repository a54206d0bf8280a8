#[test]
fn smoke() {
    let src = std::fs::read_to_string("/tmp/t/resnet.tq").unwrap();
    let p = tq::syntax::parser::parse(&src);
    for d in &p.diagnostics { eprintln!("{} {:?}", d, d.line_col(&src)); }
    let printed = tq::syntax::printer::print_program(&p.program);
    eprintln!("{printed}");
    let p2 = tq::syntax::parser::parse(&printed);
    assert!(p2.diagnostics.is_empty(), "{:?}", p2.diagnostics);
    assert_eq!(tq::syntax::printer::without_spans(&p.program), tq::syntax::printer::without_spans(&p2.program));
}
