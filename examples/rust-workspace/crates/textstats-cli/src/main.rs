use std::io::{self, Read, Write};

fn main() -> io::Result<()> {
    let mut text = String::new();
    io::stdin().read_to_string(&mut text)?;
    let s = textstats::stats(&text);
    let mut buf = itoa::Buffer::new();
    let mut out = io::stdout().lock();
    write!(out, "lines {}{}", buf.format(s.lines), textstats::NEWLINE)?;
    write!(out, "words {}{}", buf.format(s.words), textstats::NEWLINE)?;
    for (word, count) in &s.top {
        write!(out, "{word} {}{}", buf.format(*count), textstats::NEWLINE)?;
    }
    Ok(())
}
