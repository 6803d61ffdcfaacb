// JPEG -> 8-bit RGB with libjpeg-turbo, decoded exactly as Pillow decodes it (so the pixels match PIL's bit for bit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace realfake {

struct JpegRequest {
  const uint8_t* jpeg;
  size_t jpeg_size;
  // The size the caller expects (from its own header parse); a different size is an error.
  int64_t width, height;
  // Empty: the whole image, width x height x 3. Otherwise PIL's nearest sampling: output pixel (x, y) is source
  // pixel (xs[x], ys[y]); -1 means outside the image (left black). ys must be non-decreasing.
  std::vector<int32_t> xs, ys;
  // Skip colour conversion of rows that no output row reads (libjpeg-turbo's jpeg_skip_scanlines).
  bool skip_rows;
  uint8_t* out;
  size_t out_size;
};

// Fills request.out. Returns "" on success, otherwise why it did not decode: any libjpeg error or warning
// (the caller then decodes the file another way, which reports the problem as it always has).
std::string DecodeJpeg(const JpegRequest& request);

// What the header of a JPEG this decoder takes says (8-bit, greyscale or 3-component non-CMYK, header read without
// any libjpeg warning): its size, 1 or 3 components, and whether an APP1 segment starts with "Exif" (libvips then
// parses it, which the caller leaves to sharp). False for any other JPEG: the caller then decodes it another way.
struct JpegHeaderInfo {
  int64_t width = 0, height = 0;
  int components = 0;
  bool exif = false;
};
bool JpegHeader(const uint8_t* jpeg, size_t size, JpegHeaderInfo* info);

// "libjpeg-turbo 2.1.5" (the version compiled against).
std::string JpegVersion();

}  // namespace realfake
