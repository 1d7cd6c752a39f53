from pangeo_himat.cli import main

main()
