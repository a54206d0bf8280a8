fn main() {
    let path = std::env::args().nth(1).unwrap();
    let src = std::fs::read_to_string(path).unwrap();
    let parsed = tq::syntax::parser::parse(&src);
    let (env, _) = tq::check::check(&parsed.program);
    let back = tq::grad::backward(&parsed.program, &env);
    let a = tq::moments::analyze(&parsed.program, &env, &back.items);
    for (k, e) in &a.unknown { println!("unknown {k:?}: {e}"); }
    for (k, e) in &a.entries {
        match e {
            tq::moments::Entry::Plain(rv) => println!("{k:?} plain mean={:?} m2={:?}", rv.mean.as_ref().map(tq::sym::to_ascii), rv.m2.as_ref().map(tq::sym::to_ascii)),
            tq::moments::Entry::Family{members, templates} => {
                for (s, rv) in members { println!("{k:?} [{}] mean={:?} m2={:?}", tq::sym::to_ascii(s), rv.mean.as_ref().map(tq::sym::to_ascii), rv.m2.as_ref().map(tq::sym::to_ascii)); }
                for t in templates { println!("{k:?} template {}+{} mean={:?} m2={:?}", t.var, tq::sym::to_ascii(&t.offset), t.rv.mean.as_ref().map(tq::sym::to_ascii), t.rv.m2.as_ref().map(tq::sym::to_ascii)); }
            }
        }
    }
    for r in &a.recurrences { println!("rec {r:?}"); }
}
