"""Benchmark: processing a 12-megapixel phone photo (check, decode, orient, re-encode, thumbnail).

    .venv/bin/python -m benchmarks.repairs.bench_photo [--runs 30]

Prints p50/p95/max in seconds. The target is p95 <= 1 s on this machine.
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import time

from PIL import Image, ImageFilter

from portal.repairs.photos import process_photo


def phone_photo(width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP JPEG with photo-like detail and EXIF (GPS, orientation), as a phone would send."""
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(base, noise, 0.35).filter(ImageFilter.GaussianBlur(0.6))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    data = phone_photo()
    print(
        f"input: 4000x3000 JPEG, {len(data) / 1e6:.1f} MB; {platform.processor() or platform.machine()}"
    )
    process_photo(data)  # warm up
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        result = process_photo(data)
        times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    print(
        f"runs={len(times)} p50={statistics.median(times):.3f}s p95={p95:.3f}s "
        f"max={times[-1]:.3f}s output={result.width}x{result.height} "
        f"{len(result.image) / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main()
