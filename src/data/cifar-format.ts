// CIFAR's in-memory layout and class names, apart from the file reading (cifar.ts, which needs
// Node's fs) so that browser code can use them too.

/** Images of one split, channel-major like the official binary format. */
export interface ImageSet {
  /** Number of images. */
  n: number;
  /** Channels per image (3: R, G, B). */
  channels: number;
  /** Rows per image. */
  height: number;
  /** Columns per image. */
  width: number;
  /** [n, channels, height, width] bytes 0..255 */
  pixels: Uint8Array;
  /** class index per image, 0..classNames.length-1 */
  labels: Uint8Array;
}

/** A training and a test split with their class names. */
export interface ImageDataset {
  /** The training split. */
  train: ImageSet;
  /** The test split. */
  test: ImageSet;
  /** Name of each class index. */
  classNames: string[];
  /** what was read, for results.json */
  source: string;
}

/** The two CIFAR data sets. */
export type CifarName = 'cifar10' | 'cifar100';

/** Which CIFAR-100 labels to use: the 100 fine classes or the 20 superclasses. */
export type CifarLabel = 'fine' | 'coarse';

/** Options of the CIFAR readers. */
export interface CifarOptions {
  /** CIFAR-100 only: 'fine' (100 classes, the default) or 'coarse' (20 superclasses). */
  label?: CifarLabel;
}

/** Side length of a CIFAR image. */
export const CIFAR_SIZE = 32;
/** Pixel bytes of one CIFAR image: 3 channels of 32x32, channel-major (R plane, G plane, B plane). */
export const CIFAR_PIXELS = 3 * CIFAR_SIZE * CIFAR_SIZE;

/** CIFAR-10's classes in label order (as in batches.meta.txt). */
export const CIFAR10_CLASSES: readonly string[] = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

/** CIFAR-100's 100 fine classes in label order (as in fine_label_names.txt). */
export const CIFAR100_FINE_CLASSES: readonly string[] = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

/** CIFAR-100's 20 superclasses in label order (as in coarse_label_names.txt). */
export const CIFAR100_COARSE_CLASSES: readonly string[] = [
  'aquatic_mammals', 'fish', 'flowers', 'food_containers', 'fruit_and_vegetables',
  'household_electrical_devices', 'household_furniture', 'insects', 'large_carnivores',
  'large_man-made_outdoor_things', 'large_natural_outdoor_scenes', 'large_omnivores_and_herbivores',
  'medium_mammals', 'non-insect_invertebrates', 'people', 'reptiles', 'small_mammals', 'trees',
  'vehicles_1', 'vehicles_2',
];

/** Throws unless `name` is 'cifar10' or 'cifar100'. */
export function checkCifarName(name: string): asserts name is CifarName {
  if (name !== 'cifar10' && name !== 'cifar100') {
    throw new Error(`unknown dataset '${name}' (expected cifar10 or cifar100)`);
  }
}
