/**
 * resnet: a small BatchNorm ResNet (lib/model/resnet.ts), config.width / config.depth / config.input. Built from
 * lib/model's shared layers. Its BatchNorm statistics would update on worker replicas only: one thread trains it.
 */
import { buildResNet } from '../resnet';
import type { ModelFamily } from './family';

export const resnet: ModelFamily = {
  name: 'resnet',
  build: (config) => buildResNet({ ...config, imageSize: config.imageSize }),
  training: { kind: 'end-to-end' },
  dataParallel: false,
};
