// JPEG decoding with the system's libjpeg-turbo, set up exactly as Pillow's JpegDecode.c sets it up for an RGB or
// greyscale JPEG: libjpeg's defaults (JDCT_ISLOW integer IDCT, fancy upsampling, block smoothing) with only the
// output colour space changed to RGB. Pillow decodes greyscale as L and convert('RGB') copies L to R, G and B,
// which is what libjpeg's grey -> RGB conversion does. So, linked against the same libjpeg as PIL, the pixels are
// PIL's, bit for bit (test/jpeg-native.test.ts checks it against /usr/bin/python3's PIL).
#include "jpeg_decode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>

#define REALFAKE_STR2(x) #x
#define REALFAKE_STR(x) REALFAKE_STR2(x)

namespace realfake {

namespace {

// libjpeg reports errors through error_exit, which must not return: it jumps back to DecodeJpeg. Warnings
// (corrupt or truncated data that libjpeg papers over) jump back too: the caller then decodes the file the way it
// always has, so such files keep their current behaviour and messages.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void OnMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  std::snprintf(err->message, sizeof(err->message), "warning: %s", text);
  std::longjmp(err->jump, 1);
}

}  // namespace

std::string DecodeJpeg(const JpegRequest& r) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  err.message[0] = 0;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = OnError;
  err.base.emit_message = OnMessage;
  // Declared before setjmp, and nothing with a destructor after it, so a longjmp back skips no destructor.
  std::vector<uint8_t> row;
  jpeg_create_decompress(&cinfo);
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return err.message[0] ? err.message : "libjpeg failed";
  }
  jpeg_mem_src(&cinfo, r.jpeg, static_cast<unsigned long>(r.jpeg_size));
  jpeg_read_header(&cinfo, TRUE);
  const char* refused = nullptr;
  if (cinfo.num_components != 1 && cinfo.num_components != 3) refused = "not a 1- or 3-component JPEG";
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) refused = "CMYK JPEG";
  if (cinfo.image_width != r.width || cinfo.image_height != r.height) refused = "size differs from the header parsed";
  if (refused) {
    jpeg_destroy_decompress(&cinfo);
    return refused;
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const JDIMENSION width = cinfo.output_width, height = cinfo.output_height;
  const size_t stride = static_cast<size_t>(width) * 3;
  if (r.xs.empty()) {
    while (cinfo.output_scanline < height) {
      JSAMPROW rows[1] = {r.out + stride * cinfo.output_scanline};
      jpeg_read_scanlines(&cinfo, rows, 1);
    }
  } else {
    const size_t out_stride = r.xs.size() * 3;
    row.resize(stride);
    JSAMPROW rows[1] = {row.data()};
    size_t k = 0;  // next output row
    while (cinfo.output_scanline < height) {
      // The next source row some output row reads (ys is non-decreasing; -1, past the edge, only at its end).
      const JDIMENSION next = (k < r.ys.size() && r.ys[k] >= 0) ? static_cast<JDIMENSION>(r.ys[k]) : height - 1;
      if (cinfo.output_scanline < next) {
        // Skipped rows are still entropy-decoded (so corrupt data is still found) but not colour-converted. The
        // last row is always read: skipping to the end would leave the rest of the file unread.
        if (r.skip_rows) {
          jpeg_skip_scanlines(&cinfo, next - cinfo.output_scanline);
        } else {
          while (cinfo.output_scanline < next) jpeg_read_scanlines(&cinfo, rows, 1);
        }
        continue;
      }
      jpeg_read_scanlines(&cinfo, rows, 1);
      for (; k < r.ys.size() && r.ys[k] == static_cast<int32_t>(next); k++) {
        uint8_t* to = r.out + out_stride * k;
        for (size_t x = 0; x < r.xs.size(); x++, to += 3) {
          if (r.xs[x] < 0) continue;
          const uint8_t* from = row.data() + static_cast<size_t>(r.xs[x]) * 3;
          to[0] = from[0];
          to[1] = from[1];
          to[2] = from[2];
        }
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return "";
}

bool JpegHeader(const uint8_t* jpeg, size_t size, JpegHeaderInfo* info) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = OnError;
  err.base.emit_message = OnMessage;
  jpeg_create_decompress(&cinfo);
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_mem_src(&cinfo, jpeg, static_cast<unsigned long>(size));
  // libvips' rule (jpeg2vips.c read_jpeg_header): an APP1 longer than 4 bytes that starts with "Exif" is EXIF. Only
  // its first 4 bytes are kept here.
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 4);
  jpeg_read_header(&cinfo, TRUE);
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->original_length > 4 && m->data_length == 4 && std::memcmp(m->data, "Exif", 4) == 0) {
      info->exif = true;
    }
  }
  const bool ok = (cinfo.num_components == 1 || cinfo.num_components == 3) && cinfo.jpeg_color_space != JCS_CMYK &&
                  cinfo.jpeg_color_space != JCS_YCCK && cinfo.data_precision == 8;
  info->width = cinfo.image_width;
  info->height = cinfo.image_height;
  info->components = cinfo.num_components;
  jpeg_destroy_decompress(&cinfo);
  return ok;
}

std::string JpegVersion() { return "libjpeg-turbo " REALFAKE_STR(LIBJPEG_TURBO_VERSION); }

}  // namespace realfake
