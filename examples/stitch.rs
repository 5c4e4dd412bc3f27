//! Stitch files with the library: `cargo run --example stitch -- OUT IN...`
//!
//! Prints the plan's joins (where each input starts and how audio was placed) before writing.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, inputs)) = args.split_first() else {
        eprintln!("usage: stitch OUT IN...");
        std::process::exit(2);
    };
    let limits = seam::Limits::default();
    let medias = inputs
        .iter()
        .map(|p| seam::probe(Path::new(p), &limits))
        .collect::<Result<Vec<_>, _>>()?;
    let plan = seam::plan(&medias)?;
    for j in &plan.joins {
        println!(
            "{}: starts at {:.3} s, audio error {:?} ticks, {} silent frames",
            inputs[j.input],
            j.start as f64 / f64::from(plan.movie_timescale),
            j.audio_error(),
            j.audio().map_or(0, |a| a.generated)
        );
    }
    let paths: Vec<&Path> = inputs.iter().map(Path::new).collect();
    let options = seam::StitchOptions {
        overwrite: true,
        ..Default::default()
    };
    let report = seam::stitch(&paths, Path::new(out), &options)?;
    println!("{} bytes, {} samples", report.bytes, report.samples);
    Ok(())
}
