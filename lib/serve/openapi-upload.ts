/**
 * The OpenAPI request body of an upload route, shared by the image and the video routes' documents.
 */

/** An upload's request body: one multipart field named `field`, or the raw bytes (`field`/* or octet-stream). */
export function uploadBody(field: 'image' | 'video'): object {
  const binary = { type: 'string', format: 'binary' };
  return {
    required: true,
    content: {
      'multipart/form-data': { schema: { type: 'object', properties: { [field]: binary }, required: [field] } },
      'application/octet-stream': { schema: binary },
      [`${field}/*`]: { schema: binary },
    },
  };
}
